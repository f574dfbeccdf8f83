// Embedding pooling (see pooling.h).
#include "runtime/pooling.h"

#include <algorithm>
#include <cmath>

namespace mmojo {

void EmbeddingPooler::add(const float* row) {
    const size_t index = count_++;
    switch (pooling_) {
        case Pooling::kNone: rows_.emplace_back(row, row + width_); break;
        case Pooling::kCls:
            if (index == 0) rows_.assign(1, std::vector<float>(row, row + width_));
            break;
        case Pooling::kLast: rows_.assign(1, std::vector<float>(row, row + width_)); break;
        default:
            if (sum_.empty()) sum_.assign(width_, 0.0);
            for (size_t i = 0; i < width_; ++i) sum_[i] += row[i];
    }
}

std::vector<std::vector<float>> EmbeddingPooler::finish(bool normalize) {
    std::vector<std::vector<float>> out;
    if (pooling_ == Pooling::kMean || pooling_ == Pooling::kUnspecified) {
        std::vector<float> mean(sum_.size());
        for (size_t i = 0; i < mean.size(); ++i) mean[i] = float(sum_[i] / double(std::max<size_t>(1, count_)));
        out.push_back(std::move(mean));
    } else {
        out = std::move(rows_);
    }
    if (normalize) {
        for (auto& row : out) {
            double norm = 0;
            for (float v : row) norm += double(v) * v;
            norm = std::sqrt(norm);
            if (norm > 0) {
                for (float& v : row) v = float(v / norm);
            }
        }
    }
    return out;
}

}  // namespace mmojo
