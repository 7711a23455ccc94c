// brine — versioned object persistence for C++17.
// SPDX-License-Identifier: MIT
// types/function.hpp: functions and callables saved by their registered name.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "brine/codec.hpp"
#include "brine/detail/registry_core.hpp"

namespace brine {

/// A callable saved by name: it holds the name it was registered under and the callable
/// itself. Loading looks the name up in the registry and checks the signature, so an
/// archive can only ever call what the program registered.
///
/// Example:
///   registry.add_function("nn.relu", relu);
///   brine::Function<float(float)> activation("nn.relu");   // resolved in default_registry()
///   float y = activation(x);
template <class Signature>
class Function;

template <class R, class... Args>
class Function<R(Args...)> {
 public:
  Function() = default;
  /// Resolves `name` in `registry`; throws SchemaError when it is not registered or has a
  /// different signature.
  explicit Function(const std::string& name, const Registry& registry = default_registry()) {
    bind(registry.function_at(name));
  }
  const std::string& name() const noexcept { return name_; }
  explicit operator bool() const noexcept { return static_cast<bool>(callable_); }
  R operator()(Args... args) const { return (*callable_)(std::forward<Args>(args)...); }

  /// Binds to a registered function; throws SchemaError on a signature mismatch.
  void bind(const FunctionInfo& info) {
    if (*info.signature != typeid(R(Args...)))
      detail::throw_error(errc::type_mismatch,
                          "function '" + info.name + "' is registered with a different signature");
    name_ = info.name;
    callable_ = std::static_pointer_cast<const std::function<R(Args...)>>(info.callable);
  }
  void reset() noexcept {
    name_.clear();
    callable_.reset();
  }

 private:
  std::string name_;
  std::shared_ptr<const std::function<R(Args...)>> callable_;
};

template <class R, class... Args>
struct Codec<Function<R(Args...)>> {
  static constexpr std::size_t min_binary_size = 1;
  static void describe(LayoutBuilder& b) {
    b.code(LayoutCode::optional);
    b.code(LayoutCode::function);
  }
  template <class W>
  static void save(W& w, const Function<R(Args...)>& f) {
    w.write_optional(static_cast<bool>(f));
    if (f) w.write_function_name(f.name());
  }
  template <class Rd>
  static void load(Rd& r, Function<R(Args...)>& f) {
    if (!r.read_optional()) {
      f.reset();
      return;
    }
    f.bind(r.read_function_info(typeid(R(Args...))));
  }
};

/// A plain function pointer, saved by the name it was registered under (null allowed).
template <class R, class... Args>
struct Codec<R (*)(Args...)> {
  using Pointer = R (*)(Args...);
  static constexpr std::size_t min_binary_size = 1;
  static void describe(LayoutBuilder& b) {
    b.code(LayoutCode::optional);
    b.code(LayoutCode::function);
  }
  template <class W>
  static void save(W& w, const Pointer& f) {
    w.write_optional(f != nullptr);
    if (f) w.write_function(reinterpret_cast<void (*)()>(f), typeid(R(Args...)));
  }
  template <class Rd>
  static void load(Rd& r, Pointer& f) {
    if (!r.read_optional()) {
      f = nullptr;
      return;
    }
    f = reinterpret_cast<Pointer>(r.read_function(typeid(R(Args...))));
  }
};

}  // namespace brine
