#pragma once
// Pure functions and value types; usable on any thread.

#include "models/result.h"

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

namespace Pilothouse {

// A network, secret or config the stack needs, as `docker stack deploy`
// would create it (or expects it to exist, when external).
struct StackObject
{
    QString key;  // its key in the stack file
    QString name; // its name in the Swarm: "<stack>_<key>", or `name:`
    bool external = false;
    // Secrets and configs: the file their content comes from (absolute),
    // empty when external. Read when applying, never copied anywhere.
    QString sourceFile;
    // Networks: the create request; secrets and configs: the request
    // without its Data.
    QJsonObject body;
};

struct StackService
{
    QString key;      // "pg-1"
    QString name;     // "pilothouse_pg-1"
    QJsonObject spec; // the ServiceSpec; secrets and configs by name only
                      // (their IDs are filled in when applying)
    int line = 0;     // where the service starts in the stack file
};

// What a stack file asks the Swarm for.
struct StackPlan
{
    QString stack;
    QString file;
    QList<StackObject> networks;
    QList<StackObject> secrets;
    QList<StackObject> configs;
    QList<StackService> services;

    const StackService *service(const QString &key) const;
};

namespace StackFile {

// Reads a Compose file (version 3) the way `docker stack deploy -c FILE
// STACK` does, with ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}
// and $$ taken from `environment`, and YAML merge keys (<<). Relative paths
// (bind mounts, secret and config files) are relative to the file's folder.
// Everything it cannot convert exactly (an unknown or unsupported key, a
// wrong type, a bad duration, port or size) is an Error naming the file,
// line and column; nothing is guessed.
Result<StackPlan> read(const QString &path, const QString &stack,
                       const QHash<QString, QString> &environment);
Result<StackPlan> readBytes(const QByteArray &yaml, const QString &path, const QString &stack,
                            const QHash<QString, QString> &environment);

// The process environment as read() wants it.
QHash<QString, QString> processEnvironment();

// "1m30s", "250ms", "2.5s" -> nanoseconds; -1 when it is not a duration.
qint64 parseDuration(const QString &text);
// "64M", "1g", "512k", "1024" -> bytes (binary units, as Docker reads them); -1 when bad.
qint64 parseBytes(const QString &text);
// Splits a command line as a POSIX shell would split words (quotes and
// backslashes; no expansion). Returns false on an unclosed quote.
bool splitWords(const QString &text, QStringList *words);

} // namespace StackFile
} // namespace Pilothouse
