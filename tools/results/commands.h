// The subcommands of deploycheck-results. Each takes the arguments after its own
// name and returns the process exit status; usage and file problems are thrown as
// UsageError / InputError (cli.h).
#pragma once

#include <span>

namespace deploycheck::results {

int run_junit(std::span<char* const> args);
int run_summary(std::span<char* const> args);
int run_selftest(std::span<char* const> args);

}  // namespace deploycheck::results
