#pragma once
// Run.Open / Run.Close: the CTest fixture around one ctest run of an environment.
#include <filesystem>

namespace deploycheck {

// Takes the run directory's lock for as long as the calling ctest lives (a detached holder
// process keeps it), clears earlier facts and writes a fresh run id. Returns the exit code.
int open_run(const std::filesystem::path& run_dir);
// Releases the lock (stops the holder). Facts stay for inspection until the next Run.Open.
int close_run(const std::filesystem::path& run_dir);

}  // namespace deploycheck
