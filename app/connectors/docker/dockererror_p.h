#pragma once
// Free function; any thread.

#include "models/result.h"

namespace Pilothouse::Internal {

// An Error that is not about a file: just the sentence for a person.
inline Error dockerError(const QString &message)
{
    Error e;
    e.message = message;
    return e;
}

} // namespace Pilothouse::Internal
