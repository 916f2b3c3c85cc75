#include "port/sim/event_queue.h"

#include <utility>

namespace pinhole::sim {
namespace {

// More levels than a heap of max_events_in_flight events has: the bound of the sift loops.
constexpr int heap_levels = 32;
static_assert(max_events_in_flight < (std::size_t{1} << (heap_levels - 1)));

}  // namespace

Event* EventQueue::allocate(Reserve reserve) noexcept {
    const std::size_t limit = reserve == Reserve::control
                                  ? max_events_in_flight
                                  : max_events_in_flight - events_reserved_for_control;
    if (events_.size() >= limit) return nullptr;
    Event* event = events_.acquire();
    PINHOLE_ASSERT(event != nullptr);
    const std::size_t slot = events_.index_of(event);
    event->generation = ++generations_[slot];
    return event;
}

void EventQueue::schedule(Event& event, std::uint64_t due_ms) noexcept {
    PINHOLE_ASSERT(heap_size_ < heap_.size());
    event.due_ms = due_ms;
    event.sequence = next_sequence_++;
    heap_[heap_size_] = &event;
    ++heap_size_;
    sift_up(heap_size_ - 1);
}

Event* EventQueue::pop_due(std::uint64_t limit_ms) noexcept {
    if (heap_size_ == 0 || heap_[0]->due_ms > limit_ms) return nullptr;
    Event* earliest = heap_[0];
    --heap_size_;
    heap_[0] = heap_[heap_size_];
    if (heap_size_ > 0) sift_down(0);
    return earliest;
}

void EventQueue::release(Event& event) noexcept { events_.release(&event); }

std::optional<std::uint64_t> EventQueue::next_due_ms() const noexcept {
    if (heap_size_ == 0) return std::nullopt;
    return heap_[0]->due_ms;
}

Event* EventQueue::find(std::size_t slot, std::uint32_t generation) noexcept {
    if (slot >= max_events_in_flight) return nullptr;
    Event* event = events_.at(slot);
    return event != nullptr && event->generation == generation ? event : nullptr;
}

bool EventQueue::earlier(const Event& a, const Event& b) noexcept {
    if (a.due_ms != b.due_ms) return a.due_ms < b.due_ms;
    return a.sequence < b.sequence;
}

// Both sifts move one level per turn.
void EventQueue::sift_up(std::size_t position) noexcept {
    for (int level = 0; level < heap_levels && position > 0; ++level) {
        const std::size_t parent = (position - 1) / 2;
        if (!earlier(*heap_[position], *heap_[parent])) return;
        std::swap(heap_[position], heap_[parent]);
        position = parent;
    }
}

void EventQueue::sift_down(std::size_t position) noexcept {
    for (int level = 0; level < heap_levels; ++level) {
        const std::size_t left = 2 * position + 1;
        if (left >= heap_size_) return;
        const std::size_t right = left + 1;
        const std::size_t child = right < heap_size_ && earlier(*heap_[right], *heap_[left]) ? right : left;
        if (!earlier(*heap_[child], *heap_[position])) return;
        std::swap(heap_[position], heap_[child]);
        position = child;
    }
}

}  // namespace pinhole::sim
