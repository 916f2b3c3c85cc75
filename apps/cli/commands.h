// The `pinhole` subcommands. Each takes the arguments after its name and returns the exit
// status; messages go to stderr and say what to do.
#pragma once

#include <span>

#include "core/util/result.h"

namespace pinhole::cli {

using Arguments = std::span<char* const>;

int genkey(Arguments arguments);
int pubkey(Arguments arguments);
int genpsk(Arguments arguments);
int init(Arguments arguments);
int import_invite(Arguments arguments);
int check(Arguments arguments);
int agent(Arguments arguments);  // also `up`
int connect(Arguments arguments);
int forward(Arguments arguments);
int proxy(Arguments arguments);
int status(Arguments arguments);
int down(Arguments arguments);
int gateway(Arguments arguments);  // also `gateway init`

// "pinhole <command>: <message>" on stderr.
void complain(const char* command, const char* message);
// Why the node key at `key_path` cannot be used, and the fix, on stderr.
void explain_identity_error(const char* command, Errc error, const char* key_path);

}  // namespace pinhole::cli
