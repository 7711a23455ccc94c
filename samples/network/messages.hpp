// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// messages.hpp: the request/reply protocol that network_demo's client and server share.
#pragma once

#include <brine/brine.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace net {

/// Base of every request. Frames carry a std::unique_ptr<Request>, so the server learns the
/// concrete type from the archive and refuses types it has not registered.
struct Request {
  BRINE_TYPE("net.Request", 1);
  virtual ~Request() = default;

  std::uint64_t id = 0;  // echoed in the reply

  template <class Archive>
  void getstate(Archive& ar) const {
    ar("id", id);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("id", id);
  }
};

/// Reduces `values` with `op`: "sum", "mean" or "max".
struct ComputeRequest final : Request {
  BRINE_TYPE("net.ComputeRequest", 1);

  std::string op;
  std::vector<double> values;

  template <class Archive>
  void getstate(Archive& ar) const {
    brine::base<Request>(ar, *this);
    ar("op", op)("values", values);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    brine::base<Request>(ar, *this);
    ar("op", op)("values", values);
  }
};

struct Reply {
  BRINE_TYPE("net.Reply", 1);
  virtual ~Reply() = default;

  std::uint64_t request_id = 0;  // 0 when the request could not be decoded

  template <class Archive>
  void getstate(Archive& ar) const {
    ar("request_id", request_id);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    ar("request_id", request_id);
  }
};

struct ComputeReply final : Reply {
  BRINE_TYPE("net.ComputeReply", 1);

  double result = 0;

  template <class Archive>
  void getstate(Archive& ar) const {
    brine::base<Reply>(ar, *this);
    ar("result", result);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    brine::base<Reply>(ar, *this);
    ar("result", result);
  }
};

/// Codes of ErrorReply: a brine::errc value (below 1000) when the request frame did not
/// decode, or one of these when it decoded but cannot be served.
enum ServiceError : std::uint32_t {
  kUnknownOperation = 1000,  ///< ComputeRequest::op is not one the server implements
  kUnsupportedRequest,       ///< a registered Request subclass the server has no handler for
  kFrameTooLarge,            ///< the frame's length is over kMaxFrame; the server hangs up
};

struct ErrorReply final : Reply {
  BRINE_TYPE("net.ErrorReply", 1);

  std::uint32_t code = 0;
  std::string message;

  template <class Archive>
  void getstate(Archive& ar) const {
    brine::base<Reply>(ar, *this);
    ar("code", code)("message", message);
  }
  template <class Archive>
  void setstate(Archive& ar) {
    brine::base<Reply>(ar, *this);
    ar("code", code)("message", message);
  }
};

/// Registers the protocol's concrete types with their bases. Each side builds its own
/// registry: what a peer may make this process construct is exactly what is registered here.
inline void register_protocol(brine::Registry& registry) {
  registry.add<ComputeRequest>().bases<Request>();
  registry.add<ComputeReply>().bases<Reply>();
  registry.add<ErrorReply>().bases<Reply>();
}

}  // namespace net
