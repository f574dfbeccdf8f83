// Bookkeeping for the HTTP front's connection slots: how many connections are open in
// total and per client address (so one address cannot take every slot), and a way to
// close every open connection at shutdown instead of waiting for stalled clients.
// Sockets are opaque here: each connection registers a function that shuts it down.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace mmojo {

class ConnectionLimits {
public:
    ConnectionLimits(size_t max_total, size_t max_per_address)
        : max_total_(max_total), max_per_address_(max_per_address) {}

    enum class Admission { kAdmitted, kServerFull, kAddressFull, kStopping };

    // Admits one connection from `address`; on kAdmitted the caller must call release()
    // with the returned id. `shut` is called (once, from another thread) by close_all().
    Admission admit(const std::string& address, std::function<void()> shut, uint64_t& id);
    void release(uint64_t id);

    // Refuses new connections from now on and shuts every open one.
    void close_all();

    size_t open() const;
    size_t max_total() const { return max_total_; }
    size_t max_per_address() const { return max_per_address_; }

private:
    struct Entry {
        std::string address;
        std::function<void()> shut;
    };
    const size_t max_total_;
    const size_t max_per_address_;
    mutable std::mutex mutex_;
    std::map<uint64_t, Entry> open_;
    std::map<std::string, size_t> per_address_;
    uint64_t next_id_ = 1;
    bool stopping_ = false;
};

}  // namespace mmojo
