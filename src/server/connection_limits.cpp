// Connection slot accounting (see connection_limits.h).
#include "server/connection_limits.h"

namespace mmojo {

ConnectionLimits::Admission ConnectionLimits::admit(const std::string& address,
                                                    std::function<void()> shut, uint64_t& id) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return Admission::kStopping;
    if (open_.size() >= max_total_) return Admission::kServerFull;
    size_t& mine = per_address_[address];
    if (mine >= max_per_address_) {
        if (mine == 0) per_address_.erase(address);
        return Admission::kAddressFull;
    }
    ++mine;
    id = next_id_++;
    open_.emplace(id, Entry{address, std::move(shut)});
    return Admission::kAdmitted;
}

void ConnectionLimits::release(uint64_t id) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = open_.find(id);
    if (it == open_.end()) return;
    auto count = per_address_.find(it->second.address);
    if (count != per_address_.end() && --count->second == 0) per_address_.erase(count);
    open_.erase(it);
}

void ConnectionLimits::close_all() {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    // Shutting a socket down only wakes its thread (reads and writes fail); the thread
    // itself closes the socket and calls release(), so nothing is closed twice.
    for (auto& [id, entry] : open_) {
        if (entry.shut) entry.shut();
    }
}

size_t ConnectionLimits::open() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return open_.size();
}

}  // namespace mmojo
