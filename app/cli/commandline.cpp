#include "app/cli/commandline.h"

#include "app/cli/clioutput.h"
#include "app/inventory/inventoryloader.h"

#include <cstdio>

namespace Pilothouse::Cli {

std::optional<int> parseCommandLine(QCommandLineParser &parser, const QStringList &arguments,
                                    const QString &command)
{
    if (!parser.parse(arguments)) {
        print(stderr, QStringLiteral("pilothouse %1: %2\n").arg(command, parser.errorText()));
        return ExitUsage;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        print(stdout, parser.helpText());
        return 0;
    }
    return std::nullopt;
}

bool haveRequired(const QCommandLineParser &parser, const QString &command,
                  const QList<RequiredOption> &required)
{
    QStringList missing;
    for (const auto &[option, shown] : required) {
        if (parser.value(*option).trimmed().isEmpty())
            missing.append(shown);
    }
    if (missing.isEmpty())
        return true;
    print(stderr, QStringLiteral("pilothouse %1: %2 required\n")
                      .arg(command, missing.join(QStringLiteral(", "))));
    return false;
}

std::optional<Inventory> loadInventory(const QString &command, const QString &path)
{
    auto loaded = InventoryLoader::loadFile(path);
    if (!loaded) {
        print(stderr, QStringLiteral("pilothouse %1: %2\n").arg(command, loaded.error().toString()));
        return std::nullopt;
    }
    return loaded.value();
}

} // namespace Pilothouse::Cli
