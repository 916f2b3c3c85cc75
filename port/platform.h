// Everything the core needs from a platform, per instance (no globals): a node is built from
// one Platform. A port that lacks a service still provides it, answering Errc::unsupported.
#pragma once

#include "port/clock.h"
#include "port/interfaces.h"
#include "port/log.h"
#include "port/random.h"
#include "port/resolver.h"
#include "port/storage.h"
#include "port/tcp.h"
#include "port/udp.h"

namespace pinhole::port {

struct Platform {
    Clock& clock;
    Random& random;
    Udp& udp;
    Tcp& tcp;
    Resolver& resolver;
    Interfaces& interfaces;
    Storage& storage;
    LogSink& log;
};

}  // namespace pinhole::port
