#pragma once
// What every command does with its command line before its own work: parse it,
// answer --help, name the options that are missing, read the inventory. Each
// prints its message and leaves the exit code to the command.
// Used on the main thread of the headless commands.

#include "models/inventory.h"

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>
#include <utility>

namespace Pilothouse::Cli {

// sysexits' EX_USAGE: the command line was wrong, nothing was done.
constexpr int ExitUsage = 64;

// Parses `arguments` for `command` ("drill"). Returns the code to exit with
// when the command ends here (a usage error, printed on stderr; or --help,
// printed on stdout: 0), nothing when it goes on.
std::optional<int> parseCommandLine(QCommandLineParser &parser, const QStringList &arguments,
                                    const QString &command);

// An option the command cannot go without, as the message names it ("--node NODE").
using RequiredOption = std::pair<const QCommandLineOption *, QString>;

// True when every option in `required` has a value that is not blank; else
// prints "pilothouse COMMAND: --node NODE, --reason TEXT required" on stderr.
bool haveRequired(const QCommandLineParser &parser, const QString &command,
                  const QList<RequiredOption> &required);

// The inventory at `path`, or nothing after printing why it cannot be read
// ("pilothouse COMMAND: FILE:LINE:COLUMN: ...") on stderr.
std::optional<Inventory> loadInventory(const QString &command, const QString &path);

} // namespace Pilothouse::Cli
