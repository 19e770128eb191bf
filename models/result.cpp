#include "models/result.h"

#include <QStringBuilder>

namespace Pilothouse {

QString Error::toString() const
{
    if (file.isEmpty())
        return message;
    QString place = file;
    if (line > 0) {
        place += u':' + QString::number(line);
        if (column > 0)
            place += u':' + QString::number(column);
    }
    return place % u": " % message;
}

} // namespace Pilothouse
