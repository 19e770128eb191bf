// The pilothouse executable: the console by default.

#include "app/application.h"
#include "app/cli/cli.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include <cstdio>
#include <cstring>

int main(int argc, char *argv[])
{
    // Answered before anything needs a display: `pilothouse --version` works
    // on a server without one (the package's check runs it in a bare chroot).
    if (argc == 2 && (std::strcmp(argv[1], "--version") == 0 || std::strcmp(argv[1], "-v") == 0)) {
        std::printf("pilothouse %s\n", PILOTHOUSE_VERSION);
        return 0;
    }
    if (Pilothouse::Cli::isCommand(argc, argv)) {
        // Headless: no display needed, no window created.
        QCoreApplication app(argc, argv);
        QCoreApplication::setApplicationName(QStringLiteral("Pilothouse"));
        QCoreApplication::setApplicationVersion(QStringLiteral(PILOTHOUSE_VERSION));
        return Pilothouse::Cli::run(QCoreApplication::arguments());
    }

    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Pilothouse"));
    QApplication::setOrganizationName(QStringLiteral("Pilothouse"));
    QApplication::setApplicationVersion(QStringLiteral(PILOTHOUSE_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("io.github.pilothouse.Pilothouse"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Operations console for a highly available PostgreSQL cluster on Docker Swarm."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption inventoryOption(
        QStringList{QStringLiteral("i"), QStringLiteral("inventory")},
        QStringLiteral("Open the cluster described by this Ansible YAML inventory."),
        QStringLiteral("FILE"));
    const QCommandLineOption labOption(
        QStringLiteral("lab"),
        QStringLiteral("Bring the local lab up (or attach to it) and open it."));
    parser.addOption(inventoryOption);
    parser.addOption(labOption);
    parser.process(app);

    if (parser.isSet(inventoryOption) && parser.isSet(labOption)) {
        std::fputs("pilothouse: use either --inventory or --lab, not both\n", stderr);
        return 2;
    }

    Pilothouse::Application console;
    console.show();
    if (parser.isSet(inventoryOption)) {
        const QString path = parser.value(inventoryOption);
        QTimer::singleShot(0, &console, [&console, path] { console.openInventory(path); });
    } else if (parser.isSet(labOption)) {
        QTimer::singleShot(0, &console, &Pilothouse::Application::openLab);
    }
    return QApplication::exec();
}
