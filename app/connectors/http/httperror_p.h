#pragma once
// Free function; safe on any thread.

#include "models/result.h"

namespace Pilothouse {

// An Error about the network or a remote program: it has no file position.
inline Error makeError(const QString &message)
{
    return Error{message, QString(), 0, 0};
}

} // namespace Pilothouse
