// The two schemas walked over a parsed file: each fills its config from the root mapping or
// fails through the walker with the first error (config/load.cc wraps them into the API).
#pragma once

#include "config/schema.h"
#include "config/walk.h"

namespace pinhole::config {

[[nodiscard]] Status walk_node_config(Walker& walker, const YamlNode& root, NodeConfig& config);
[[nodiscard]] Status walk_gateway_config(Walker& walker, const YamlNode& root,
                                         GatewayConfig& config);

}  // namespace pinhole::config
