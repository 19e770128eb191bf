#include "app/cli/auditcommand.h"

#include "app/cli/clioutput.h"
#include "app/cli/commandline.h"
#include "app/connectors/etcd/etcdclient.h"
#include "app/connectors/etcd/etcdclusterprobe.h"
#include "app/operations/audittrail.h"

#include <QCommandLineParser>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>

#include <cstdio>
#include <memory>

namespace Pilothouse::Cli::AuditCommand {
namespace {

constexpr int ExitIntact = 0;
constexpr int ExitBroken = 1;
constexpr int ExitUnreadable = 2;

void printJson(const QJsonDocument &doc)
{
    print(stdout, QString::fromUtf8(doc.toJson(QJsonDocument::Indented)));
}

// Every value under `prefix`, asking the members in turn until one answers.
Result<QList<QByteArray>> readMirror(const Inventory &inventory, const QByteArray &prefix)
{
    const auto members = EtcdClusterProbe::membersOf(inventory);
    if (members.isEmpty())
        return Error{QStringLiteral("the inventory names no etcd members"), inventory.path, 0, 0};
    QStringList errors;
    for (const auto &m : members) {
        EtcdClient client(m.endpoint, m.name);
        std::optional<Result<QList<EtcdKeyValue>>> answer;
        QEventLoop loop;
        AuditTrail::readEtcd(&client, prefix, &loop, [&](Result<QList<EtcdKeyValue>> r) {
            answer.emplace(std::move(r));
            loop.quit();
        });
        if (!answer)
            loop.exec();
        if (answer && answer->ok()) {
            QList<QByteArray> values;
            for (const EtcdKeyValue &kv : answer->value())
                values.append(kv.value);
            return values;
        }
        errors.append(answer ? answer->error().message : QStringLiteral("no answer"));
    }
    return Error{QStringLiteral("cannot read the etcd mirror %1: %2")
                     .arg(QString::fromUtf8(prefix), errors.join(QStringLiteral("; "))),
                 {},
                 0,
                 0};
}

QString summary(const AuditVerification &v)
{
    if (!v.readable)
        return QStringLiteral("%1: cannot read: %2\n").arg(v.source, v.message);
    QString text =
        QStringLiteral("%1: %2, %3 entr%4")
            .arg(v.source, v.intact ? QStringLiteral("intact") : QStringLiteral("BROKEN"))
            .arg(v.entries)
            .arg(v.entries == 1 ? QStringLiteral("y") : QStringLiteral("ies"));
    if (v.entries > 0)
        text += QStringLiteral(" (last seq %1)").arg(v.lastSeq);
    text += u'\n';
    if (!v.intact)
        text += QStringLiteral("  first bad entry: seq %1%2: %3\n")
                    .arg(v.brokenSeq)
                    .arg(v.line > 0 ? QStringLiteral(", line %1").arg(v.line) : QString())
                    .arg(v.message);
    return text;
}

int verify(const Inventory &inventory, const QString &path, bool offline, bool json)
{
    const AuditVerification file = AuditTrail::verifyFile(path);
    std::optional<AuditVerification> mirror;
    AuditVerification verdict = file;
    const QByteArray prefix = AuditTrail::etcdPrefix(inventory.settings.stack);
    if (!offline && file.readable) {
        const auto values = readMirror(inventory, prefix);
        if (values) {
            mirror = AuditTrail::verifyRecords(
                values.value(), QStringLiteral("etcd ") + QString::fromUtf8(prefix), false);
        } else {
            mirror = AuditVerification{};
            mirror->source = QStringLiteral("etcd ") + QString::fromUtf8(prefix);
            mirror->readable = false;
            mirror->intact = false;
            mirror->message = values.error().message;
        }
        verdict = AuditTrail::compare(file, *mirror);
    }
    const int code =
        !verdict.readable ? ExitUnreadable : (verdict.intact ? ExitIntact : ExitBroken);
    if (json) {
        QJsonObject o{
            {QStringLiteral("intact"), verdict.intact},
            {QStringLiteral("readable"), verdict.readable},
            {QStringLiteral("message"), verdict.message},
            {QStringLiteral("notes"), QJsonArray::fromStringList(verdict.notes)},
            {QStringLiteral("file"), file.toJson()},
            {QStringLiteral("etcd"), mirror ? QJsonValue(mirror->toJson()) : QJsonValue()},
        };
        if (verdict.brokenSeq >= 0) {
            o.insert(QStringLiteral("broken_seq"), verdict.brokenSeq);
            o.insert(QStringLiteral("line"), verdict.line);
        }
        printJson(QJsonDocument(o));
        return code;
    }
    QString text = summary(file);
    if (mirror)
        text += summary(*mirror);
    if (file.intact && (!mirror || mirror->intact) && !verdict.intact)
        text +=
            QStringLiteral("BROKEN: the file and etcd disagree: seq %1%2: %3\n")
                .arg(verdict.brokenSeq)
                .arg(verdict.line > 0 ? QStringLiteral(", line %1").arg(verdict.line) : QString())
                .arg(verdict.message);
    for (const QString &note : std::as_const(verdict.notes))
        text += QStringLiteral("note: ") + note + u'\n';
    if (code == ExitIntact)
        text += QStringLiteral("audit trail intact\n");
    print(code == ExitIntact ? stdout : stderr, text);
    return code;
}

QString clip(QString text, int width)
{
    text.replace(u'\n', u' ');
    return text.size() <= width ? text : text.left(width - 1) + QChar(0x2026);
}

int list(const QString &path, bool json)
{
    const AuditVerification v = AuditTrail::verifyFile(path);
    if (!v.readable) {
        print(stderr, QStringLiteral("pilothouse audit: %1\n").arg(v.message));
        return ExitUnreadable;
    }
    if (json) {
        QJsonArray entries;
        for (const AuditEntry &e : v.parsed)
            entries.append(e.toJson());
        printJson(QJsonDocument(QJsonObject{{QStringLiteral("file"), path},
                                            {QStringLiteral("intact"), v.intact},
                                            {QStringLiteral("entries"), entries}}));
        return ExitIntact;
    }
    QString text =
        QStringLiteral("%1  %2  %3  %4  %5  %6  %7\n")
            .arg(QStringLiteral("seq").rightJustified(5),
                 QStringLiteral("time (local)").leftJustified(19),
                 QStringLiteral("who").leftJustified(18), QStringLiteral("kind").leftJustified(9),
                 QStringLiteral("target").leftJustified(16), QStringLiteral("ok  "),
                 QStringLiteral("operation / arguments -> result"));
    for (const AuditEntry &e : v.parsed) {
        text +=
            QStringLiteral("%1  %2  %3  %4  %5  %6  %7: %8 -> %9\n")
                .arg(QString::number(e.seq).rightJustified(5),
                     e.time.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")),
                     clip(e.user + u'@' + e.host, 18).leftJustified(18),
                     auditKindName(e.kind).leftJustified(9), clip(e.target, 16).leftJustified(16),
                     e.ok ? QStringLiteral("ok  ") : QStringLiteral("FAIL"), e.operation,
                     clip(e.arguments, 60), clip(e.result, 40));
    }
    if (v.parsed.isEmpty())
        text += QStringLiteral("(no entries in %1)\n").arg(path);
    if (!v.intact)
        text += QStringLiteral("warning: the chain is broken at seq %1: run `pilothouse audit "
                               "verify`\n")
                    .arg(v.brokenSeq);
    print(stdout, text);
    return ExitIntact;
}

} // namespace

bool matches(const QByteArray &command)
{
    return command == "audit";
}

int run(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "pilothouse audit verify --inventory FILE [--file PATH] [--offline] [--json]\n"
        "    check the hash chain of the audit file and its etcd mirror; exit 0 intact, 1 "
        "broken, 2 cannot read\n"
        "pilothouse audit list --inventory FILE [--file PATH] [--json]\n"
        "    print the entries of the audit file"));
    parser.addHelpOption();
    const QCommandLineOption inventoryOption(
        {QStringLiteral("i"), QStringLiteral("inventory")},
        QStringLiteral("The cluster's Ansible YAML inventory."), QStringLiteral("FILE"));
    const QCommandLineOption fileOption(
        QStringLiteral("file"),
        QStringLiteral(
            "The audit file (default: ~/.local/share/Pilothouse/audit/<cluster>.jsonl)."),
        QStringLiteral("PATH"));
    const QCommandLineOption offlineOption(
        QStringLiteral("offline"), QStringLiteral("verify: check the file only, not etcd."));
    const QCommandLineOption jsonOption(QStringLiteral("json"),
                                        QStringLiteral("Print JSON instead of text."));
    parser.addOptions({inventoryOption, fileOption, offlineOption, jsonOption});
    parser.addPositionalArgument(QStringLiteral("audit"), QStringLiteral("audit"));
    parser.addPositionalArgument(QStringLiteral("action"), QStringLiteral("verify or list"));
    if (const auto exit = parseCommandLine(parser, arguments, QStringLiteral("audit")))
        return *exit;
    const QString action = parser.positionalArguments().value(1);
    if (action != u"verify" && action != u"list") {
        print(
            stderr,
            QStringLiteral("pilothouse audit: say `verify` or `list` (got \"%1\")\n").arg(action));
        return ExitUsage;
    }
    const QString command = QStringLiteral("audit ") + action;
    if (!haveRequired(parser, command, {{&inventoryOption, QStringLiteral("--inventory FILE")}}))
        return ExitUsage;
    const auto inventory = loadInventory(command, parser.value(inventoryOption));
    if (!inventory)
        return ExitUnreadable;
    const QString path = parser.isSet(fileOption) ? parser.value(fileOption)
                                                  : AuditTrail::defaultFilePath(inventory.value());
    const bool json = parser.isSet(jsonOption);
    if (action == u"list")
        return list(path, json);
    return verify(inventory.value(), path, parser.isSet(offlineOption), json);
}

} // namespace Pilothouse::Cli::AuditCommand
