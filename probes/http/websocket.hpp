#pragma once
// probes/http/websocket: a WebSocket upgrade and one echo round trip (Boost.Beast; Debian's
// libcurl 7.88 has no stable WebSocket API). Facts only: the upgrade's status, what came back
// and how long the round trip took.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "fixtures/units.hpp"

namespace deploycheck {

struct WebSocketRequest {
  std::string url;  // ws://host:port/path or wss://host:port/path
  std::string message;
  std::optional<std::string> ca_file;  // wss: verify against this bundle (else the system's)
};

struct WebSocketEcho {
  std::string url;
  int status = 0;        // of the upgrade response: 101 when it switched
  std::string received;  // the first message back
  double round_trip_ms = 0;
  std::string error;  // what went wrong after the server answered (a refused upgrade)
};

// One attempt bounded by `timeout`; throws Unreachable when the server does not answer.
WebSocketEcho websocket_echo(const WebSocketRequest& request, Duration timeout);

nlohmann::json to_json(const WebSocketEcho& e);
WebSocketEcho websocket_echo_from_json(const nlohmann::json& j);

}  // namespace deploycheck
