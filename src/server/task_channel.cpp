// The event queue between the scheduler and one HTTP handler (see scheduler.h).
#include "server/scheduler.h"

namespace mmojo {

void TaskChannel::push(TaskEvent event) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        events_.push_back(std::move(event));
    }
    cv_.notify_one();
}

std::optional<TaskEvent> TaskChannel::pop(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!cv_.wait_for(lock, timeout, [this] { return !events_.empty(); })) return std::nullopt;
    TaskEvent event = std::move(events_.front());
    events_.pop_front();
    return event;
}

}  // namespace mmojo
