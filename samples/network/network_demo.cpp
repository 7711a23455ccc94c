// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// network_demo.cpp: a server and a client exchanging brine objects over loopback TCP; bad
// requests (unknown type, newer class version, corrupt bytes) get an ErrorReply and the
// connection keeps serving.

#include <sys/wait.h>
#include <unistd.h>

#include <brine/brine.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "framing.hpp"
#include "messages.hpp"

namespace {

// What other builds of the client send. Each side of a real deployment is a different
// program; here one executable plays both, so the types the server must not know live in
// registries that only the client uses.
namespace later_release {

/// A later client release added rounding, and bumped the class version.
struct ComputeRequest final : net::Request {
  BRINE_TYPE("net.ComputeRequest", 2);

  std::string op;
  std::vector<double> values;
  std::int32_t decimals = 2;

  template <class Archive>
  void getstate(Archive& ar) const {
    brine::base<net::Request>(ar, *this);
    ar("op", op)("values", values)("decimals", decimals);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    brine::base<net::Request>(ar, *this);
    ar("op", op)("values", values)("decimals", decimals);
  }
};

/// A request type the server has never heard of.
struct AdminCommand final : net::Request {
  BRINE_TYPE("net.AdminCommand", 1);

  std::string command;

  template <class Archive>
  void getstate(Archive& ar) const {
    brine::base<net::Request>(ar, *this);
    ar("command", command);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    brine::base<net::Request>(ar, *this);
    ar("command", command);
  }
};

}  // namespace later_release

constexpr int kTimeoutSeconds = 10;

/// One line on stdout in one write(2), so that the two processes' lines never interleave.
void say(const char* who, const std::string& line) {
  std::string text = std::string(who) + ": " + line + "\n";
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t k = ::write(1, text.data() + done, text.size() - done);
    if (k <= 0) return;
    done += static_cast<std::size_t>(k);
  }
}

// ---------------------------------------------------------------------------------------
// Server.

std::unique_ptr<net::Reply> error_reply(std::uint64_t id, std::uint32_t code, std::string message) {
  auto reply = std::make_unique<net::ErrorReply>();
  reply->request_id = id;
  reply->code = code;
  reply->message = std::move(message);
  return reply;
}

std::unique_ptr<net::Reply> compute(const net::ComputeRequest& request) {
  const auto& v = request.values;
  double result = 0;
  if (request.op == "sum" || request.op == "mean") {
    for (double x : v) result += x;
    if (request.op == "mean")
      result = v.empty() ? std::nan("") : result / static_cast<double>(v.size());
  } else if (request.op == "max") {
    result = v.empty() ? -HUGE_VAL : v[0];
    for (double x : v) result = x > result ? x : result;
  } else {
    return error_reply(request.id, net::kUnknownOperation,
                       "unknown operation '" + request.op + "'");
  }
  auto reply = std::make_unique<net::ComputeReply>();
  reply->request_id = request.id;
  reply->result = result;
  return reply;
}

/// Decodes one frame and answers it. A frame is a whole archive, so a frame that fails to
/// decode costs only that request: the next frame starts clean. Only brine::Error is turned
/// into a reply; anything else is a bug in this server and should stop it.
std::unique_ptr<net::Reply> handle(std::string_view frame, const brine::Registry& registry) {
  // The peer is untrusted: tighter limits than the defaults, which are sized for files we wrote.
  brine::LoadOptions limits;
  limits.max_depth = 16;
  limits.max_elements = 1u << 16;
  std::unique_ptr<net::Request> request;
  try {
    request = brine::from_binary<std::unique_ptr<net::Request>>(frame, registry, limits);
  } catch (const brine::Error& e) {
    return error_reply(0, static_cast<std::uint32_t>(e.code()), e.what());
  }
  if (!request) return error_reply(0, net::kUnsupportedRequest, "empty request");
  if (auto* c = dynamic_cast<const net::ComputeRequest*>(request.get())) return compute(*c);
  return error_reply(request->id, net::kUnsupportedRequest, "no handler for this request type");
}

/// Serves one connection until the client closes it.
void serve_connection(const net::Socket& connection, brine::Registry& registry) {
  net::set_timeouts(connection, kTimeoutSeconds);
  int served = 0;
  for (;;) {
    std::optional<std::string> frame;
    try {
      frame = net::recv_frame(connection);
    } catch (const net::FrameTooLarge& e) {
      // The length cannot be trusted, so neither can the framing after it: answer and hang up.
      std::unique_ptr<net::Reply> reply = error_reply(0, net::kFrameTooLarge, e.what());
      net::send_frame(connection, brine::to_binary(reply, registry).view());
      say("server", std::string("closing the connection: ") + e.what());
      return;
    }
    if (!frame) break;
    std::unique_ptr<net::Reply> reply = handle(*frame, registry);
    if (auto* error = dynamic_cast<const net::ErrorReply*>(reply.get()))
      say("server", "error reply " + std::to_string(error->code) + ": " + error->message);
    net::send_frame(connection, brine::to_binary(reply, registry).view());
    ++served;
  }
  say("server", "client closed the connection after " + std::to_string(served) + " requests");
}

/// Serves `connections` connections one after another (the demo), or forever when it is 0. A
/// connection that fails (a peer that stalls or hangs up inside a frame) ends the demo, but a
/// long-running server only drops that connection.
int run_server(const net::Socket& listener, int connections) {
  brine::Registry registry;
  net::register_protocol(registry);
  if (connections > 0) {
    for (int i = 0; i < connections; ++i)
      serve_connection(net::accept_one(listener, kTimeoutSeconds), registry);
    return 0;
  }
  for (;;) {
    try {
      serve_connection(net::accept_one(listener, -1), registry);
    } catch (const std::exception& e) {
      say("server", std::string("connection dropped: ") + e.what());
    }
  }
}

// ---------------------------------------------------------------------------------------
// Client.

class Client {
 public:
  explicit Client(std::uint16_t port) : socket_(net::connect_to(port)) {
    net::set_timeouts(socket_, kTimeoutSeconds);
    net::register_protocol(registry_);
    registry_.add<later_release::AdminCommand>().bases<net::Request>();
    later_registry_.add<later_release::ComputeRequest>().bases<net::Request>();
  }

  std::uint64_t next_id() { return ++last_id_; }
  brine::Registry& registry() { return registry_; }
  brine::Registry& later_registry() { return later_registry_; }

  /// Sends raw frame bytes and returns the decoded reply, checking that it answers `id`.
  std::unique_ptr<net::Reply> exchange(std::string_view frame, std::uint64_t id) {
    net::send_frame(socket_, frame);
    std::optional<std::string> bytes = net::recv_frame(socket_);
    if (!bytes) throw std::runtime_error("the server closed the connection");
    auto reply = brine::from_binary<std::unique_ptr<net::Reply>>(*bytes, registry_);
    if (!reply) throw std::runtime_error("empty reply");
    if (reply->request_id != id)
      throw std::runtime_error("reply to request " + std::to_string(reply->request_id) +
                               ", expected " + std::to_string(id));
    return reply;
  }

 private:
  net::Socket socket_;
  brine::Registry registry_;        // the protocol, plus a type this server does not know
  brine::Registry later_registry_;  // ComputeRequest as a later release declares it
  std::uint64_t last_id_ = 0;
};

struct Check {
  int failures = 0;
  void expect(bool ok, const std::string& what) {
    say("client", (ok ? "ok    " : "FAIL  ") + what);
    failures += !ok;
  }
};

std::string format(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", x);
  return text;
}

/// Sends a good request and checks the result (exact: these sums are exact in binary).
void expect_result(Client& client, Check& check, const std::string& op, std::vector<double> values,
                   double expected) {
  net::ComputeRequest request;
  request.id = client.next_id();
  request.op = op;
  request.values = std::move(values);
  std::unique_ptr<net::Request> frame_value = std::make_unique<net::ComputeRequest>(request);
  auto reply = client.exchange(brine::to_binary(frame_value, client.registry()).view(), request.id);
  auto* result = dynamic_cast<const net::ComputeReply*>(reply.get());
  auto* error = dynamic_cast<const net::ErrorReply*>(reply.get());
  check.expect(result != nullptr && result->result == expected,
               op + " of " + std::to_string(request.values.size()) + " values = " +
                   (result  ? format(result->result)
                    : error ? "error: " + error->message
                            : "?") +
                   " (expected " + format(expected) + ")");
}

/// Sends a bad frame and checks that the server answers with an ErrorReply of `code` whose
/// message mentions `mention`.
void expect_error(Client& client, Check& check, const std::string& what, std::string_view frame,
                  std::uint64_t reply_id, std::uint32_t code, const std::string& mention) {
  auto reply = client.exchange(frame, reply_id);
  auto* error = dynamic_cast<const net::ErrorReply*>(reply.get());
  bool ok =
      error != nullptr && error->code == code && error->message.find(mention) != std::string::npos;
  std::string line =
      what + " -> " +
      (error ? "ErrorReply " + std::to_string(error->code) : std::string("not an ErrorReply"));
  if (ok) {
    line += " naming '" + mention + "'";
  } else {
    if (error) line += ": " + error->message;
    line += " (expected code " + std::to_string(code) + " naming '" + mention + "')";
  }
  check.expect(ok, line);
}

template <class T>
std::string request_frame(T request, brine::Registry& registry) {
  std::unique_ptr<net::Request> value = std::make_unique<T>(std::move(request));
  return std::string(brine::to_binary(value, registry).view());
}

/// The requests of one connection, good and bad, each reply checked.
void run_requests(std::uint16_t port, Check& check) {
  Client client(port);
  expect_result(client, check, "sum", {1, 2, 3, 4.5}, 10.5);
  expect_result(client, check, "mean", {2, 4, 6, 8}, 5);

  // A type the server never registered: it must refuse to construct it, by name.
  later_release::AdminCommand admin;
  admin.command = "drop all tables";
  expect_error(client, check, "unknown type", request_frame(admin, client.registry()), 0,
               static_cast<std::uint32_t>(brine::errc::unknown_type), "net.AdminCommand");

  // A newer version of a type the server knows: refused, not misread.
  later_release::ComputeRequest newer;
  newer.id = client.next_id();
  newer.op = "sum";
  newer.values = {1, 2};
  expect_error(client, check, "newer class version", request_frame(newer, client.later_registry()),
               0, static_cast<std::uint32_t>(brine::errc::newer_class_version),
               "net.ComputeRequest");

  // One flipped bit in an otherwise good request: the block checksum catches it.
  net::ComputeRequest good;
  good.id = client.next_id();
  good.op = "sum";
  good.values = {1, 2, 3};
  std::string corrupt = request_frame(good, client.registry());
  corrupt[corrupt.size() / 2] = static_cast<char>(corrupt[corrupt.size() / 2] ^ 0x01);
  expect_error(client, check, "corrupt frame", corrupt, 0,
               static_cast<std::uint32_t>(brine::errc::checksum_mismatch), "checksum");

  // Decodes fine, but the server does not implement the operation.
  good.id = client.next_id();
  good.op = "median";
  expect_error(client, check, "unknown operation", request_frame(good, client.registry()), good.id,
               net::kUnknownOperation, "median");

  // The same connection still serves good requests.
  expect_result(client, check, "max", {3, -1, 7, 2}, 7);
  std::vector<double> many(1000);
  for (std::size_t i = 0; i < many.size(); ++i) many[i] = static_cast<double>(i);
  expect_result(client, check, "sum", many, 499500);
}

/// A length prefix over the server's limit, on a connection of its own: the framing can no
/// longer be trusted, so the server answers once and hangs up.
void send_oversized_frame(std::uint16_t port, Check& check) {
  brine::Registry registry;
  net::register_protocol(registry);
  net::Socket socket = net::connect_to(port);
  net::set_timeouts(socket, kTimeoutSeconds);
  const unsigned char prefix[4] = {0xFF, 0xFF, 0xFF, 0x7F};
  if (::send(socket.fd(), prefix, sizeof prefix, MSG_NOSIGNAL) != 4) net::throw_errno("send");
  std::optional<std::string> bytes = net::recv_frame(socket);
  std::unique_ptr<net::Reply> reply;
  if (bytes) reply = brine::from_binary<std::unique_ptr<net::Reply>>(*bytes, registry);
  auto* error = dynamic_cast<const net::ErrorReply*>(reply.get());
  check.expect(error != nullptr && error->code == net::kFrameTooLarge,
               "oversized length prefix -> " + (error ? "ErrorReply " + std::to_string(error->code)
                                                      : std::string("no ErrorReply")));
  check.expect(!net::recv_frame(socket), "then the server closes that connection");
}

int run_client(std::uint16_t port) {
  Check check;
  run_requests(port, check);  // closes its connection, which the one-at-a-time server waits for
  send_oversized_frame(port, check);
  say("client", check.failures == 0 ? "all replies as expected"
                                    : std::to_string(check.failures) + " unexpected replies");
  return check.failures == 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------
// Processes.

/// Runs `body` in a child process; returns its pid.
pid_t spawn(const char* who, const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid < 0) net::throw_errno("fork");
  if (pid > 0) return pid;
  int code = 2;
  try {
    code = body();
  } catch (const std::exception& e) {
    say(who, std::string("error: ") + e.what());
  }
  std::exit(code);
}

bool exited_cleanly(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int run_demo() {
  // Listening before the fork means the client can connect at once: no port to wait for.
  net::Socket listener = net::listen_on(0);
  std::uint16_t port = net::bound_port(listener);
  say("demo", "server listening on 127.0.0.1:" + std::to_string(port));
  pid_t server = spawn("server", [&] { return run_server(listener, 2); });
  pid_t client = spawn("client", [&] { return run_client(port); });
  bool client_ok = exited_cleanly(client);
  bool server_ok = exited_cleanly(server);
  say("demo", std::string("client ") + (client_ok ? "succeeded" : "FAILED") + ", server " +
                  (server_ok ? "succeeded" : "FAILED"));
  return client_ok && server_ok ? 0 : 1;
}

[[noreturn]] void usage() {
  std::fprintf(
      stderr,
      "usage: network_demo              fork a server and a client on an ephemeral port\n"
      "       network_demo serve [PORT] serve connections on 127.0.0.1:PORT (default: any)\n"
      "       network_demo client PORT  run the client's requests against a server\n");
  std::exit(2);
}

std::uint16_t parse_port(const char* text) {
  char* end = nullptr;
  unsigned long port = std::strtoul(text, &end, 10);
  if (end == text || *end != '\0' || port > 65535) usage();
  return static_cast<std::uint16_t>(port);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 1) return run_demo();
    std::string mode = argv[1];
    if (mode == "serve" && argc <= 3) {
      net::Socket listener = net::listen_on(argc == 3 ? parse_port(argv[2]) : 0);
      say("server", "listening on 127.0.0.1:" + std::to_string(net::bound_port(listener)));
      return run_server(listener, 0);
    }
    if (mode == "client" && argc == 3) return run_client(parse_port(argv[2]));
    usage();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "network_demo: %s\n", e.what());
    return 1;
  }
}
