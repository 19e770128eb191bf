#pragma once
// Pure helper, usable on any thread.

#include "models/result.h"

namespace Pilothouse::Internal {

// An Error that is not about a file.
inline Error pgError(QString message)
{
    return Error{std::move(message), {}, 0, 0};
}

} // namespace Pilothouse::Internal
