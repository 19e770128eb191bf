#pragma once
// Value types, usable on any thread.

#include <QString>

#include <optional>
#include <utility>
#include <variant>

namespace Pilothouse {

// An error a person can act on: what went wrong and, for inputs, where.
struct Error
{
    QString message;
    QString file;   // empty when the error is not about a file
    int line = 0;   // 1-based; 0 when unknown
    int column = 0; // 1-based; 0 when unknown

    // "file:line:column: message", or just the message when there is no place.
    QString toString() const;
};

// Either a value or an Error; never both, never neither.
template<typename T> class Result
{
public:
    Result(T value)
        : m_data(std::move(value))
    {}
    Result(Error error)
        : m_data(std::move(error))
    {}

    bool ok() const { return std::holds_alternative<T>(m_data); }
    explicit operator bool() const { return ok(); }

    const T &value() const & { return std::get<T>(m_data); }
    T &&value() && { return std::get<T>(std::move(m_data)); }
    const Error &error() const { return std::get<Error>(m_data); }

private:
    std::variant<T, Error> m_data;
};

} // namespace Pilothouse
