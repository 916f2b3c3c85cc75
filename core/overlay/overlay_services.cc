// The overlay's built-in TCP services: echo (port 7) and discard (port 9). lwIP acknowledges
// data on receipt, so flow control is the window: echo calls tcp_recved only for bytes whose
// echo went into the send buffer, and holds at most echo_segments_held segments meanwhile.
#include <algorithm>

#include "core/overlay/overlay_stack.h"

namespace pinhole::overlay {

err_t OverlayStack::on_accept_echo(void* arg, tcp_pcb* pcb, err_t error) noexcept {
    if (error != ERR_OK || pcb == nullptr) return ERR_VAL;
    return static_cast<OverlayStack*>(arg)->accept(pcb, Service::echo);
}

err_t OverlayStack::on_accept_discard(void* arg, tcp_pcb* pcb, err_t error) noexcept {
    if (error != ERR_OK || pcb == nullptr) return ERR_VAL;
    return static_cast<OverlayStack*>(arg)->accept(pcb, Service::discard);
}

err_t OverlayStack::accept(tcp_pcb* pcb, Service service) noexcept {
    auto slot = std::find_if(connections_.begin(), connections_.end(),
                             [](const Connection& connection) { return !connection.used; });
    if (slot == connections_.end()) {
        counters_.connections_refused++;
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    slot->used = true;
    slot->pcb = pcb;
    slot->service = service;
    slot->peer_closed = false;
    (service == Service::echo ? counters_.echo_connections : counters_.discard_connections)++;
    tcp_arg(pcb, &*slot);
    tcp_recv(pcb, &OverlayStack::on_receive);
    tcp_sent(pcb, &OverlayStack::on_sent);
    tcp_err(pcb, &OverlayStack::on_error);
    return ERR_OK;
}

err_t OverlayStack::on_receive(void* arg, tcp_pcb* pcb, pbuf* data, err_t error) noexcept {
    auto& connection = *static_cast<Connection*>(arg);
    OverlayStack& stack = *connection.stack;
    if (data == nullptr) {  // the peer closed its side: finish the echo, then close
        connection.peer_closed = true;
        if (!connection.held.empty()) return ERR_OK;
        return stack.close(connection);
    }
    if (error != ERR_OK) {
        pbuf_free(data);
        return ERR_OK;
    }
    if (connection.service == Service::discard) {
        stack.counters_.discard_bytes += data->tot_len;
        tcp_recved(pcb, data->tot_len);
        pbuf_free(data);
        return ERR_OK;
    }
    return stack.receive_echo(connection, data);
}

err_t OverlayStack::receive_echo(Connection& connection, pbuf* data) noexcept {
    // ERR_MEM makes lwIP keep the segment and offer it again later (its "refused data").
    if (!connection.held.push(data).ok()) return ERR_MEM;
    return write_echo(connection);
}

err_t OverlayStack::write_echo(Connection& connection) noexcept {
    tcp_pcb* pcb = connection.pcb;
    // Each round writes one pbuf (or what fits of it); a window's worth of segments is the most.
    for (std::size_t round = 0; round < 4 * echo_segments_held && !connection.held.empty(); round++) {
        pbuf* head = connection.held.front();
        const u16_t room_bytes = tcp_sndbuf(pcb);
        const u16_t chunk_bytes = std::min<u16_t>(head->len, room_bytes);
        if (chunk_bytes == 0 || tcp_write(pcb, head->payload, chunk_bytes, TCP_WRITE_FLAG_COPY) != ERR_OK) {
            break;  // the send buffer is full: on_sent continues
        }
        tcp_recved(pcb, chunk_bytes);
        counters_.echo_bytes += chunk_bytes;
        pbuf* rest = pbuf_free_header(head, chunk_bytes);
        if (rest == nullptr) {
            (void)connection.held.pop();
        } else {
            connection.held.front() = rest;
        }
    }
    (void)tcp_output(pcb);  // a failure leaves the data queued; lwIP's timer retries
    if (connection.peer_closed && connection.held.empty()) return close(connection);
    return ERR_OK;
}

err_t OverlayStack::on_sent(void* arg, tcp_pcb* /*pcb*/, std::uint16_t /*length_bytes*/) noexcept {
    auto& connection = *static_cast<Connection*>(arg);
    if (connection.service != Service::echo) return ERR_OK;
    return connection.stack->write_echo(connection);
}

void OverlayStack::on_error(void* arg, err_t /*error*/) noexcept {
    auto& connection = *static_cast<Connection*>(arg);
    connection.pcb = nullptr;  // lwIP has freed it already
    connection.stack->release(connection);
}

err_t OverlayStack::close(Connection& connection) noexcept {
    tcp_pcb* pcb = connection.pcb;
    release(connection);
    if (tcp_close(pcb) == ERR_OK) return ERR_OK;
    tcp_abort(pcb);  // no memory to send the FIN: reset instead
    return ERR_ABRT;
}

void OverlayStack::release(Connection& connection) noexcept {
    if (connection.pcb != nullptr) {
        tcp_arg(connection.pcb, nullptr);
        tcp_recv(connection.pcb, nullptr);
        tcp_sent(connection.pcb, nullptr);
        tcp_err(connection.pcb, nullptr);
    }
    for (std::optional<pbuf*> held = connection.held.pop(); held.has_value(); held = connection.held.pop()) {
        pbuf_free(*held);
    }
    connection.pcb = nullptr;
    connection.used = false;
}

}  // namespace pinhole::overlay
