// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// framing.hpp: length-prefixed frames over a TCP socket: a u32 little-endian length, then one
// brine binary archive.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace net {

/// Largest frame accepted. The length prefix comes from the peer: without a bound, four bytes
/// could make the server allocate 4 GiB before reading anything.
inline constexpr std::uint32_t kMaxFrame = 1u << 20;

struct FrameTooLarge : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

/// Closes the descriptor when it goes out of scope.
class Socket {
 public:
  explicit Socket(int fd = -1) noexcept : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(Socket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Socket& operator=(Socket&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  int fd() const noexcept { return fd_; }

 private:
  int fd_;
};

/// A socket on 127.0.0.1 listening on `port` (0: an ephemeral port; read it with bound_port).
inline Socket listen_on(std::uint16_t port) {
  Socket s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (s.fd() < 0) throw_errno("socket");
  int one = 1;
  ::setsockopt(s.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::bind(s.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw_errno("bind");
  if (::listen(s.fd(), 8) != 0) throw_errno("listen");
  return s;
}

inline std::uint16_t bound_port(const Socket& s) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(s.fd(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw_errno("getsockname");
  return ntohs(addr.sin_port);
}

/// Bounds every blocking read and write, so that a peer that stops answering makes the demo
/// fail with an error instead of hanging the test run.
inline void set_timeouts(const Socket& s, int seconds) {
  timeval tv{};
  tv.tv_sec = seconds;
  ::setsockopt(s.fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(s.fd(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/// Accepts one connection, or throws after `seconds` without one (never, if negative).
inline Socket accept_one(const Socket& listener, int seconds) {
  pollfd p{listener.fd(), POLLIN, 0};
  int ready;
  while ((ready = ::poll(&p, 1, seconds < 0 ? -1 : seconds * 1000)) < 0 && errno == EINTR) {
  }
  if (ready < 0) throw_errno("poll");
  if (ready == 0)
    throw std::runtime_error("no client connected within " + std::to_string(seconds) + " s");
  Socket s(::accept4(listener.fd(), nullptr, nullptr, SOCK_CLOEXEC));
  if (s.fd() < 0) throw_errno("accept");
  return s;
}

inline Socket connect_to(std::uint16_t port) {
  Socket s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (s.fd() < 0) throw_errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(s.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw_errno("connect to 127.0.0.1:" + std::to_string(port));
  return s;
}

/// Sends a frame. Prefix and payload go out in one send: two small writes would meet Nagle's
/// algorithm and the peer's delayed ACK, adding ~40 ms to every request.
inline void send_frame(const Socket& s, std::string_view payload) {
  if (payload.size() > kMaxFrame)
    throw FrameTooLarge("frame of " + std::to_string(payload.size()) + " bytes");
  std::string frame(4 + payload.size(), '\0');
  auto n = static_cast<std::uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) frame[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  frame.replace(4, payload.size(), payload);
  std::size_t sent = 0;
  while (sent < frame.size()) {
    // MSG_NOSIGNAL: a peer that hung up is an error to report, not a SIGPIPE that kills us.
    ssize_t k = ::send(s.fd(), frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) throw_errno("send");
    sent += static_cast<std::size_t>(k);
  }
}

/// Reads exactly `n` bytes; returns how many arrived before the peer closed (n unless EOF).
inline std::size_t recv_exactly(const Socket& s, char* out, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    ssize_t k = ::recv(s.fd(), out + got, n - got, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) throw_errno(errno == EAGAIN || errno == EWOULDBLOCK ? "recv timed out" : "recv");
    if (k == 0) break;
    got += static_cast<std::size_t>(k);
  }
  return got;
}

/// The next frame's payload, or nothing when the peer closed the connection between frames.
/// Throws FrameTooLarge (before reading the payload) and std::runtime_error for a connection
/// cut inside a frame.
inline std::optional<std::string> recv_frame(const Socket& s) {
  unsigned char prefix[4];
  std::size_t got = recv_exactly(s, reinterpret_cast<char*>(prefix), 4);
  if (got == 0) return std::nullopt;
  if (got < 4) throw std::runtime_error("connection closed inside a frame's length prefix");
  std::uint32_t n =
      static_cast<std::uint32_t>(prefix[0]) | static_cast<std::uint32_t>(prefix[1]) << 8 |
      static_cast<std::uint32_t>(prefix[2]) << 16 | static_cast<std::uint32_t>(prefix[3]) << 24;
  if (n > kMaxFrame)
    throw FrameTooLarge("frame of " + std::to_string(n) + " bytes exceeds the limit of " +
                        std::to_string(kMaxFrame));
  std::string payload(n, '\0');
  if (recv_exactly(s, payload.data(), n) < n)
    throw std::runtime_error("connection closed inside a frame");
  return payload;
}

}  // namespace net
