#pragma once
// Errors a user can cause come back as values, with a message a person understands.

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace attn {

/// What kind of problem an Error is, for callers that act on it (fall back to another reader,
/// offer another file, stay quiet on Cancelled). Never decide by the message text.
enum class ErrorCode {
    Invalid,                  ///< a bad input or option (the default)
    NotFound,                 ///< no such file or folder (or a file a model needs is missing)
    UnknownBuiltin,           ///< builtin:NAME with a NAME we do not ship
    UnsupportedFormat,        ///< a file or folder, but not a kind of model we read
    UnsupportedArchitecture,  ///< a format we read describing a model we cannot run
    Corrupt,                  ///< a format we read, but the contents are broken or truncated
    TooLarge,                 ///< would need more memory than we allow
    Cancelled                 ///< stopped on request
};

/// A problem a user caused (bad text, bad option, corrupt file), said in plain words.
struct Error {
    std::string message;
    ErrorCode code = ErrorCode::Invalid;
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
    ErrorCode code() const { return error().code; }

private:
    std::variant<T, Error> m_v;
};

/// Result for operations that return nothing.
struct Ok {};
using Status = Result<Ok>;

inline Error makeError(std::string message, ErrorCode code = ErrorCode::Invalid) {
    return Error{std::move(message), code};
}
/// The same error with another code (a loader's own failure seen from a caller that knows more).
inline Error withCode(Error error, ErrorCode code) {
    error.code = code;
    return error;
}
/// "not-found", "corrupt", … (for logs and JSON).
inline std::string toString(ErrorCode code) {
    switch (code) {
        case ErrorCode::Invalid:
            return "invalid";
        case ErrorCode::NotFound:
            return "not-found";
        case ErrorCode::UnknownBuiltin:
            return "unknown-builtin";
        case ErrorCode::UnsupportedFormat:
            return "unsupported-format";
        case ErrorCode::UnsupportedArchitecture:
            return "unsupported-architecture";
        case ErrorCode::Corrupt:
            return "corrupt";
        case ErrorCode::TooLarge:
            return "too-large";
        case ErrorCode::Cancelled:
            return "cancelled";
    }
    return "?";
}

}  // namespace attn
