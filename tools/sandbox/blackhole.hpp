// The hidden `blackhole` command: the process behind the dns_silent service (blackhole.cpp).
#pragma once

namespace deploycheck::sandbox {

// `deploycheck-sandboxctl blackhole --port P`: binds UDP and TCP on 127.0.0.1:P and never
// answers until SIGTERM/SIGINT/SIGHUP; returns the exit code. Throws on a bad command line or
// when the port is taken (the message then holds strerror's "Address already in use").
int run_blackhole(int argc, char** argv);

}  // namespace deploycheck::sandbox
