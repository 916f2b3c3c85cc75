// check: validate a configuration the way `nginx -t` does.
#include <cstdio>

#include "apps/cli/commands.h"
#include "config/yaml_loader.h"

namespace pinhole::cli {

int check(Arguments arguments) {
    if (arguments.size() != 2 || std::string_view(arguments[0]) != "-c") {
        complain("check", "usage: pinhole check -c FILE");
        return 2;
    }
    if (const auto error = config::check_yaml_file(arguments[1])) {
        std::fprintf(stderr, "%s\n", error->to_string().c_str());
        return 1;
    }
    std::printf("%s: ok\n", arguments[1]);
    return 0;
}

}  // namespace pinhole::cli
