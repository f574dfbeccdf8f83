// Model loading: hyperparameters and descriptive figures against shared/models/MODELS.md,
// load progress, and the errors for unknown architectures, missing or misshapen tensors
// and bad hyperparameters (files rewritten from stories260K with the GGUF writer).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "model/model.h"

namespace mmojo {
namespace {

namespace fs = std::filesystem;
const std::string kShared = MMOJO_SHARED_DIR;
const std::string kStories = kShared + "/models/stories260K.gguf";

TEST(ModelLoad, Stories260KHyperparameters) {
    auto model = Model::load(kStories);
    const ModelHparams& hp = model->hparams();
    // MODELS.md: ctx 2048, n_embd 64, 5 blocks, ff 172, 8 heads / 4 kv heads, 512 tokens.
    EXPECT_EQ(hp.arch, "llama");
    EXPECT_EQ(hp.n_ctx_train, 2048u);
    EXPECT_EQ(hp.n_embd, 64u);
    EXPECT_EQ(hp.n_layer, 5u);
    EXPECT_EQ(hp.n_ff, 172u);
    EXPECT_EQ(hp.n_head, 8u);
    EXPECT_EQ(hp.n_head_kv, 4u);
    EXPECT_EQ(hp.head_dim_k, 8u);
    EXPECT_EQ(hp.n_vocab, 512u);
    EXPECT_EQ(hp.n_rot, 8u);
    EXPECT_FLOAT_EQ(hp.rope_freq_base, 10000.0f);
    EXPECT_FLOAT_EQ(hp.rope_freq_scale, 1.0f);
    EXPECT_TRUE(hp.causal);
    EXPECT_EQ(model->output_size(), 512u);
    EXPECT_EQ(model->type_label(), "F32");   // no general.file_type: all tensors are F32
    EXPECT_EQ(model->chat_template(), "");
    EXPECT_EQ(model->tokenizer().n_vocab(), 512);
    EXPECT_EQ(model->state_layers().size(), 5u);
}

TEST(ModelLoad, GeneratedModelFigures) {
    // MODELS.md: 3,410,176 parameters in every test model; F32 has 4 bytes each.
    auto f32 = Model::load(kShared + "/models/gen/test-f32.gguf");
    EXPECT_EQ(f32->n_params(), 3410176u);
    EXPECT_EQ(f32->size_bytes(), 3410176u * 4u);
    EXPECT_EQ(f32->type_label(), "F32");
    auto q4km = Model::load(kShared + "/models/gen/test-q4_k_m.gguf");
    EXPECT_EQ(q4km->n_params(), 3410176u);
    EXPECT_EQ(q4km->type_label(), "Q4_K_M");
    EXPECT_LT(q4km->size_bytes(), fs::file_size(kShared + "/models/gen/test-q4_k_m.gguf"));
    // llama-2-tiny-random: file_type 1 (MOSTLY_F16), 2 heads of 4.
    auto tiny = Model::load(kShared + "/models/llama-2-tiny-random.gguf");
    EXPECT_EQ(tiny->type_label(), "F16");
    EXPECT_EQ(tiny->hparams().head_dim_k, 4u);
    EXPECT_EQ(tiny->hparams().n_vocab, 32000u);
}

TEST(ModelLoad, ProgressGoesFromZeroToOne) {
    std::vector<float> seen;
    ModelLoadOptions options;
    options.progress = [&](float f) { seen.push_back(f); };
    Model::load(kStories, options);
    ASSERT_GE(seen.size(), 48u);   // stories260K has 48 tensors
    EXPECT_EQ(seen.front(), 0.0f);
    EXPECT_EQ(seen.back(), 1.0f);
    for (size_t i = 1; i < seen.size(); ++i) EXPECT_GE(seen[i], seen[i - 1]);
}

// Rewrites stories260K through `edit_key` (return false to drop a key) and `edit_tensor`
// (return false to drop a tensor; may change dims and data), then loads it.
class RewrittenModel : public ::testing::Test {
protected:
    void TearDown() override {
        std::error_code ec;
        if (!path_.empty()) fs::remove(path_, ec);
    }

    std::string load_error(
        const std::function<bool(const std::string&, GgufValue&)>& edit_key,
        const std::function<bool(const std::string&, std::vector<uint64_t>&, std::vector<uint8_t>&)>& edit_tensor,
        const std::function<void(GgufWriter&)>& add_keys = {}) {
        GgufFile source = GgufFile::open(kStories);
        GgufWriter writer(source.alignment());
        for (const auto& [key, value] : source.metadata()) {
            GgufValue copy = value;
            if (edit_key(key, copy)) writer.set(key, copy);
        }
        if (add_keys) add_keys(writer);
        for (const GgufTensorInfo& t : source.tensors()) {
            std::vector<uint64_t> dims = t.dims;
            std::vector<uint8_t> data(t.data, t.data + t.n_bytes);
            if (edit_tensor(t.name, dims, data)) writer.add_tensor(t.name, t.type, dims, data);
        }
        path_ = (fs::temp_directory_path() /
                 ("mmojo_model_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                  "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".gguf"))
                    .string();
        writer.write(path_);
        try {
            Model::load(path_);
        } catch (const std::runtime_error& e) {
            return e.what();
        }
        return "(loaded)";
    }

    static bool keep_key(const std::string&, GgufValue&) { return true; }
    static bool keep_tensor(const std::string&, std::vector<uint64_t>&, std::vector<uint8_t>&) { return true; }

    std::string path_;
};

TEST_F(RewrittenModel, UnchangedCopyLoads) { EXPECT_EQ(load_error(keep_key, keep_tensor), "(loaded)"); }

TEST_F(RewrittenModel, UnknownArchitectureIsNamed) {
    const std::string error = load_error(
        [](const std::string& key, GgufValue& v) {
            if (key == "general.architecture") v.value = std::string("mamba9");
            return true;
        },
        keep_tensor);
    EXPECT_NE(error.find("unsupported architecture 'mamba9'"), std::string::npos) << error;
    EXPECT_NE(error.find("llama"), std::string::npos) << error;   // lists what is supported
}

TEST_F(RewrittenModel, MissingTensorIsNamed) {
    const std::string error = load_error(keep_key, [](const std::string& name, auto&, auto&) {
        return name != "blk.2.ffn_up.weight";
    });
    EXPECT_NE(error.find("missing tensor 'blk.2.ffn_up.weight'"), std::string::npos) << error;
}

TEST_F(RewrittenModel, MisshapenTensorIsNamed) {
    const std::string error = load_error(keep_key, [](const std::string& name, std::vector<uint64_t>& dims,
                                                      std::vector<uint8_t>& data) {
        if (name == "output_norm.weight") {
            dims = {32};
            data.resize(32 * 4);
        }
        return true;
    });
    EXPECT_NE(error.find("tensor 'output_norm.weight' has shape [32], expected [64]"), std::string::npos)
        << error;
}

TEST_F(RewrittenModel, MissingRequiredKeyIsNamed) {
    const std::string error = load_error(
        [](const std::string& key, GgufValue&) { return key != "llama.block_count"; }, keep_tensor);
    EXPECT_NE(error.find("llama.block_count"), std::string::npos) << error;
}

TEST_F(RewrittenModel, ImpossibleHeadCountsAreRejected) {
    const std::string error = load_error(
        [](const std::string& key, GgufValue& v) {
            if (key == "llama.attention.head_count_kv") v.value = uint64_t(3);
            return true;
        },
        keep_tensor);
    EXPECT_NE(error.find("llama.attention.head_count_kv"), std::string::npos) << error;
}

TEST_F(RewrittenModel, UnsupportedRopeScalingIsRefused) {
    const std::string error = load_error(keep_key, keep_tensor, [](GgufWriter& w) {
        w.set_string("llama.rope.scaling.type", "yarn");
        w.set_f32("llama.rope.scaling.factor", 4.0f);
    });
    EXPECT_NE(error.find("rope scaling type 'yarn' is not supported"), std::string::npos) << error;
}

TEST_F(RewrittenModel, LinearRopeScalingIsRead) {
    EXPECT_EQ(load_error(keep_key, keep_tensor, [](GgufWriter& w) {
                  w.set_string("llama.rope.scaling.type", "linear");
                  w.set_f32("llama.rope.scaling.factor", 4.0f);
                  w.set_f32("llama.rope.freq_base", 500000.0f);
              }),
              "(loaded)");
    auto model = Model::load(path_);
    EXPECT_FLOAT_EQ(model->hparams().rope_freq_scale, 0.25f);
    EXPECT_FLOAT_EQ(model->hparams().rope_freq_base, 500000.0f);
}

TEST_F(RewrittenModel, TiedOutputUsesTheEmbedding) {
    // Without output.weight the logits come from token_embd (as llama.cpp does).
    EXPECT_EQ(load_error(keep_key, [](const std::string& name, auto&, auto&) { return name != "output.weight"; }),
              "(loaded)");
}

TEST(ModelLoad, MissingFileAndOldVersionGiveErrors) {
    EXPECT_THROW(Model::load(kShared + "/models/does-not-exist.gguf"), std::runtime_error);
    // GGUF v1 (the legacy stories file) is rejected by the reader.
    EXPECT_THROW(Model::load(kShared + "/models/legacy/tinyllamas-stories-260k-f32.gguf"),
                 std::runtime_error);
}

}  // namespace
}  // namespace mmojo
