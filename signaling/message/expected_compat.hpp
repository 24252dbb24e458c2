// std::expected for toolchains whose standard library compiles it out.
//
// Why: libstdc++ 12 defines std::expected only when the compiler reports P0848 (conditionally
// trivial special members, __cpp_concepts >= 202002L). GCC 12 does; clang 14, which builds the
// libFuzzer targets in fuzz/, does not, so <expected> is empty there. This header includes the
// real <expected> and, only when it provided nothing (__cpp_lib_expected undefined), supplies the
// subset of the C++23 interface the SIP message code uses: construction from a value or from
// std::unexpected, has_value/operator bool, *, ->, value(), error(), value_or. With GCC 12 or any
// newer compiler the block below is not compiled at all.
#pragma once

#include <expected>

#if !defined(__cpp_lib_expected)

#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

namespace std {  // NOLINT(cert-dcl58-cpp): fills in a library gap, only when the library lacks it

template <class E>
class unexpected {
 public:
  template <class Err = E>
  requires(!is_same_v<remove_cvref_t<Err>, unexpected> &&
           is_constructible_v<E, Err>) constexpr explicit unexpected(Err&& e)
      : error_(std::forward<Err>(e)) {}

  constexpr const E& error() const& noexcept { return error_; }
  constexpr E& error() & noexcept { return error_; }
  constexpr E&& error() && noexcept { return std::move(error_); }

  friend constexpr bool operator==(const unexpected& a, const unexpected& b) { return a.error_ == b.error_; }

 private:
  E error_;
};

template <class E>
unexpected(E) -> unexpected<E>;

template <class E>
class bad_expected_access : public exception {
 public:
  explicit bad_expected_access(E e) : error_(std::move(e)) {}
  const char* what() const noexcept override { return "bad access to std::expected without expected value"; }
  const E& error() const& noexcept { return error_; }

 private:
  E error_;
};

template <class T, class E>
class expected {
 public:
  using value_type = T;
  using error_type = E;

  constexpr expected() requires is_default_constructible_v<T> : storage_(in_place_index<0>) {}

  template <class U = T>
  requires(!is_same_v<remove_cvref_t<U>, expected> && !is_same_v<remove_cvref_t<U>, in_place_t> &&
           is_constructible_v<T, U>) constexpr expected(U&& v)
      : storage_(in_place_index<0>, std::forward<U>(v)) {}  // NOLINT: implicit as in std

  template <class G>
  constexpr expected(const unexpected<G>& e) : storage_(in_place_index<1>, unexpected<E>(e.error())) {}  // NOLINT
  template <class G>
  constexpr expected(unexpected<G>&& e)  // NOLINT: implicit as in std
      : storage_(in_place_index<1>, unexpected<E>(std::move(e).error())) {}

  [[nodiscard]] constexpr bool has_value() const noexcept { return storage_.index() == 0; }
  constexpr explicit operator bool() const noexcept { return has_value(); }

  constexpr T& operator*() & noexcept { return *get_if<0>(&storage_); }
  constexpr const T& operator*() const& noexcept { return *get_if<0>(&storage_); }
  constexpr T&& operator*() && noexcept { return std::move(*get_if<0>(&storage_)); }
  constexpr T* operator->() noexcept { return get_if<0>(&storage_); }
  constexpr const T* operator->() const noexcept { return get_if<0>(&storage_); }

  constexpr T& value() & {
    check();
    return **this;
  }
  constexpr const T& value() const& {
    check();
    return **this;
  }
  constexpr T&& value() && {
    check();
    return std::move(**this);
  }

  constexpr E& error() & noexcept { return get_if<1>(&storage_)->error(); }
  constexpr const E& error() const& noexcept { return get_if<1>(&storage_)->error(); }
  constexpr E&& error() && noexcept { return std::move(get_if<1>(&storage_)->error()); }

  template <class U>
  constexpr T value_or(U&& fallback) const& {
    return has_value() ? **this : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  constexpr void check() const {
    if (!has_value()) throw bad_expected_access<E>(error());
  }
  variant<T, unexpected<E>> storage_;
};

template <class E>
class expected<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  constexpr expected() : storage_(in_place_index<0>) {}
  template <class G>
  constexpr expected(const unexpected<G>& e) : storage_(in_place_index<1>, unexpected<E>(e.error())) {}  // NOLINT
  template <class G>
  constexpr expected(unexpected<G>&& e)  // NOLINT: implicit as in std
      : storage_(in_place_index<1>, unexpected<E>(std::move(e).error())) {}

  [[nodiscard]] constexpr bool has_value() const noexcept { return storage_.index() == 0; }
  constexpr explicit operator bool() const noexcept { return has_value(); }
  constexpr void operator*() const noexcept {}
  constexpr void value() const {
    if (!has_value()) throw bad_expected_access<E>(error());
  }
  constexpr E& error() & noexcept { return get_if<1>(&storage_)->error(); }
  constexpr const E& error() const& noexcept { return get_if<1>(&storage_)->error(); }

 private:
  variant<monostate, unexpected<E>> storage_;
};

}  // namespace std

#endif  // !defined(__cpp_lib_expected)
