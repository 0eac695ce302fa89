// The only translation unit that includes Boost.Beast (it compiles slowly).
#include "probes/http/websocket.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <exception>

#include "probes/policy.hpp"

namespace deploycheck {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct Target {
  bool tls = false;
  std::string host, port, path;
};

Target parse(const std::string& url) {
  Target t;
  std::string rest;
  if (url.rfind("wss://", 0) == 0) {
    t.tls = true;
    rest = url.substr(6);
  } else if (url.rfind("ws://", 0) == 0) {
    rest = url.substr(5);
  } else {
    throw std::invalid_argument("not a ws:// or wss:// URL: " + url);
  }
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  t.path = slash == std::string::npos ? "/" : rest.substr(slash);
  const auto colon = authority.rfind(':');
  t.host = colon == std::string::npos ? authority : authority.substr(0, colon);
  t.port = colon == std::string::npos ? (t.tls ? "443" : "80") : authority.substr(colon + 1);
  return t;
}

// The handshake, one message out and one back. `WsStream` is plain or TLS.
template <class WsStream>
asio::awaitable<void> echo(WsStream& ws, const Target& t, const WebSocketRequest& request,
                           WebSocketEcho& out) {
  websocket::response_type upgrade;
  try {
    co_await ws.async_handshake(upgrade, t.host + ":" + t.port, t.path, asio::use_awaitable);
  } catch (const boost::system::system_error& e) {
    out.status = static_cast<int>(upgrade.result_int());
    out.error = e.code().message();
    if (out.status != 0) co_return;  // the server answered: its refusal is the fact
    throw;
  }
  out.status = static_cast<int>(upgrade.result_int());
  const auto start = std::chrono::steady_clock::now();
  co_await ws.async_write(asio::buffer(request.message), asio::use_awaitable);
  beast::flat_buffer buffer;
  co_await ws.async_read(buffer, asio::use_awaitable);
  out.round_trip_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  out.received = beast::buffers_to_string(buffer.data());
  beast::error_code ignored;
  co_await ws.async_close(websocket::close_code::normal,
                          asio::redirect_error(asio::use_awaitable, ignored));
}

asio::awaitable<void> run(const Target& t, const WebSocketRequest& request, WebSocketEcho& out,
                          asio::ssl::context& ssl) {
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  const auto endpoints = co_await resolver.async_resolve(t.host, t.port, asio::use_awaitable);
  if (t.tls) {
    websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(executor, ssl);
    co_await beast::get_lowest_layer(ws).async_connect(endpoints, asio::use_awaitable);
    if (!SSL_set_tlsext_host_name(ws.next_layer().native_handle(), t.host.c_str())) {
      throw std::runtime_error("cannot set SNI " + t.host);
    }
    ws.next_layer().set_verify_callback(asio::ssl::host_name_verification(t.host));
    co_await ws.next_layer().async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    co_await echo(ws, t, request, out);
  } else {
    websocket::stream<beast::tcp_stream> ws(executor);
    co_await beast::get_lowest_layer(ws).async_connect(endpoints, asio::use_awaitable);
    co_await echo(ws, t, request, out);
  }
}

}  // namespace

WebSocketEcho websocket_echo(const WebSocketRequest& request, Duration timeout) {
  const Target target = parse(request.url);
  WebSocketEcho out;
  out.url = request.url;
  asio::io_context io;
  asio::ssl::context ssl(asio::ssl::context::tls_client);
  ssl.set_verify_mode(asio::ssl::verify_peer);
  if (request.ca_file) {
    ssl.load_verify_file(*request.ca_file);
  } else {
    ssl.set_default_verify_paths();
  }
  std::exception_ptr failure;
  bool done = false;
  asio::co_spawn(io, run(target, request, out, ssl), [&](std::exception_ptr e) {
    failure = e;
    done = true;
  });
  io.run_for(timeout);
  if (!done) {
    // Not the URL: it may carry a secret; with_policy names the target in its printable form.
    throw Unreachable("no echo within " + format_duration(timeout));
  }
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      throw Unreachable(e.what());
    }
  }
  return out;
}

nlohmann::json to_json(const WebSocketEcho& e) {
  return {{"url", e.url},
          {"status", e.status},
          {"received", e.received},
          {"round_trip_ms", e.round_trip_ms},
          {"error", e.error}};
}

WebSocketEcho websocket_echo_from_json(const nlohmann::json& j) {
  return WebSocketEcho{j.at("url"), j.at("status"), j.at("received"), j.at("round_trip_ms"),
                       j.at("error")};
}

}  // namespace deploycheck
