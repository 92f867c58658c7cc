#pragma once
// Errors a user can cause come back as values, with a message a person understands.

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace attn {

/// A problem a user caused (bad text, bad option, corrupt file), said in plain words.
struct Error {
    std::string message;
};

/// Either a value or an Error. Programmer errors assert instead.
template <class T>
class Result {
public:
    Result(T value) : m_v(std::move(value)) {}      // NOLINT: implicit on purpose
    Result(Error error) : m_v(std::move(error)) {}  // NOLINT: implicit on purpose

    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & {
        assert(ok());
        return std::get<0>(m_v);
    }
    const T& value() const& {
        assert(ok());
        return std::get<0>(m_v);
    }
    T&& value() && {
        assert(ok());
        return std::get<0>(std::move(m_v));
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const {
        assert(!ok());
        return std::get<1>(m_v);
    }
    const std::string& message() const { return error().message; }

private:
    std::variant<T, Error> m_v;
};

/// Result for operations that return nothing.
struct Ok {};
using Status = Result<Ok>;

inline Error makeError(std::string message) { return Error{std::move(message)}; }

}  // namespace attn
