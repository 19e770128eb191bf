// The audit trail's file and chain: append and verify, an edited field, a
// removed line, a re-sealed edit, reopening, masking secrets, and comparing
// the file with a mirror.

#include "app/operations/audittrail.h"

#include <QFile>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <pwd.h>
#include <unistd.h>

using namespace Pilothouse;

namespace {

QList<QByteArray> readLines(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(path));
    QList<QByteArray> lines = f.readAll().split('\n');
    if (!lines.isEmpty() && lines.last().isEmpty())
        lines.removeLast();
    return lines;
}

void writeLines(const QString &path, const QList<QByteArray> &lines)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        qFatal("cannot write %s", qPrintable(path));
    for (const QByteArray &l : lines)
        f.write(l + '\n');
}

QJsonObject objectOf(const QByteArray &line)
{
    return QJsonDocument::fromJson(line).object();
}

QByteArray lineOf(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace

class TestAuditTrail final : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    int m_files = 0;

    // A fresh file with five entries of a switchover.
    QString writeFive()
    {
        const QString path =
            m_dir.filePath(QStringLiteral("audit-%1/cluster.jsonl").arg(++m_files));
        AuditTrail trail(path);
        trail.setIdentity(QStringLiteral("alice"), QStringLiteral("ws1"));
        trail.setOperation(QStringLiteral("switchover pg-2"), QStringLiteral("kernel update"));
        const auto first =
            trail.record(AuditKind::Operation, QStringLiteral("cluster"),
                         QStringLiteral("switchover --to pg-2"), QStringLiteral("started"), true);
        if (!first)
            qFatal("%s", qPrintable(first.error().toString()));
        trail.record(AuditKind::Ssh, QStringLiteral("swarm-01"), QStringLiteral("docker ps"),
                     QStringLiteral("exit 0"), true);
        trail.record(AuditKind::Docker, QStringLiteral("pilothouse_pg-1"),
                     QStringLiteral("exec repmgr standby switchover"), QStringLiteral("exit 0"),
                     true);
        trail.record(AuditKind::Sql, QStringLiteral("pg-2"),
                     QStringLiteral("SELECT pg_is_in_recovery()"), QStringLiteral("f"), true);
        trail.record(AuditKind::Etcd, QStringLiteral("etcd1"), QStringLiteral("put /x"),
                     QStringLiteral("ok"), true);
        return path;
    }

    // The lines with entries `edited`..`last` given another result, and every
    // entry from `from` on re-sealed (prevHash and hash computed again), as
    // someone covering an edit would.
    static QList<QByteArray> resealedFrom(const QList<QByteArray> &lines, int from, int edited,
                                          int last = 1000)
    {
        QList<QByteArray> out = lines.mid(0, from);
        QString prev = objectOf(lines.at(from - 1)).value(QStringLiteral("hash")).toString();
        for (int i = from; i < lines.size(); ++i) {
            AuditEntry e = AuditEntry::fromJson(objectOf(lines.at(i))).value();
            if (i >= edited && i <= last)
                e.result = QStringLiteral("rewritten");
            e.prevHash = prev;
            e.hash = e.computeHash();
            prev = e.hash;
            out.append(lineOf(e.toJson()));
        }
        return out;
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void theUserIsNamedWithoutALoginEnvironment()
    {
        // CI and services run without USER/LOGNAME: the trail still names the account.
        const QByteArray user = qgetenv("USER"), logname = qgetenv("LOGNAME");
        qunsetenv("USER");
        qunsetenv("LOGNAME");
        const QString name = AuditTrail::localUser();
        qputenv("USER", user);
        qputenv("LOGNAME", logname);
        const passwd *pw = ::getpwuid(::geteuid());
        QVERIFY(pw);
        QCOMPARE(name, QString::fromLocal8Bit(pw->pw_name));
        qputenv("USER", "operator-x");
        QCOMPARE(AuditTrail::localUser(), QStringLiteral("operator-x"));
        qputenv("USER", user);
    }

    void appendsAChainThatVerifies()
    {
        const QString path = writeFive();
        const auto lines = readLines(path);
        QCOMPARE(lines.size(), 5);
        QString prev;
        for (int i = 0; i < lines.size(); ++i) {
            const QJsonObject o = objectOf(lines.at(i));
            QCOMPARE(o.value(QStringLiteral("seq")).toInteger(), i + 1);
            QCOMPARE(o.value(QStringLiteral("prevHash")).toString(), prev);
            QCOMPARE(o.value(QStringLiteral("user")).toString(), QStringLiteral("alice"));
            QCOMPARE(o.value(QStringLiteral("operation")).toString(),
                     QStringLiteral("switchover pg-2"));
            QCOMPARE(o.value(QStringLiteral("reason")).toString(), QStringLiteral("kernel update"));
            prev = o.value(QStringLiteral("hash")).toString();
            QCOMPARE(prev.size(), 64);
        }
        QCOMPARE(objectOf(lines.at(2)).value(QStringLiteral("kind")).toString(),
                 QStringLiteral("docker"));
        const AuditVerification v = AuditTrail::verifyFile(path);
        QVERIFY2(v.intact, qPrintable(v.message));
        QVERIFY(v.readable);
        QCOMPARE(v.entries, 5);
        QCOMPARE(v.lastSeq, 5);
        QCOMPARE(v.brokenSeq, -1);
        QCOMPARE(v.parsed.at(3).kind, AuditKind::Sql);
    }

    void hashCoversEveryFieldCanonically()
    {
        AuditEntry e;
        e.seq = 7;
        e.time =
            QDateTime::fromString(QStringLiteral("2026-11-26T10:02:11.123Z"), Qt::ISODateWithMs);
        e.user = QStringLiteral("alice");
        e.prevHash = QStringLiteral("ab");
        const QByteArray canonical = e.canonical();
        // Keys sorted, no spaces, no hash field.
        QVERIFY(canonical.startsWith("{\"arguments\":\"\",\"host\":\"\",\"kind\":\"operation\""));
        QVERIFY(!canonical.contains("\"hash\""));
        QVERIFY(canonical.contains("\"time\":\"2026-11-26T10:02:11.123Z\""));
        const QString h = e.computeHash();
        e.ok = false;
        QVERIFY(e.computeHash() != h);
        e.ok = true;
        QCOMPARE(e.computeHash(), h);
        e.hash = h;
        const auto back = AuditEntry::fromJson(e.toJson());
        QVERIFY(back);
        QCOMPARE(back.value().computeHash(), h);
        QCOMPARE(back.value().time, e.time);
    }

    void anEditedFieldNamesItsSeq()
    {
        const QString path = writeFive();
        auto lines = readLines(path);
        QJsonObject o = objectOf(lines.at(2));
        o.insert(QStringLiteral("result"), QStringLiteral("exit 1"));
        lines[2] = lineOf(o);
        writeLines(path, lines);
        const AuditVerification v = AuditTrail::verifyFile(path);
        QVERIFY(!v.intact);
        QVERIFY(v.readable);
        QCOMPARE(v.brokenSeq, 3);
        QCOMPARE(v.line, 3);
        QVERIFY2(v.message.contains(QStringLiteral("seq 3 was edited")), qPrintable(v.message));
    }

    void aResealedEditBreaksTheNextLink()
    {
        // Someone edits seq 2 and recomputes its hash: seq 3 still points at the old one.
        const QString path = writeFive();
        auto lines = readLines(path);
        AuditEntry e = AuditEntry::fromJson(objectOf(lines.at(1))).value();
        e.arguments = QStringLiteral("docker ps -a");
        e.hash = e.computeHash();
        lines[1] = lineOf(e.toJson());
        writeLines(path, lines);
        const AuditVerification v = AuditTrail::verifyFile(path);
        QVERIFY(!v.intact);
        QCOMPARE(v.brokenSeq, 3);
        QCOMPARE(v.line, 3);
        QVERIFY2(v.message.contains(QStringLiteral("prevHash")), qPrintable(v.message));
    }

    void aRemovedLineIsDetected()
    {
        const QString path = writeFive();
        auto lines = readLines(path);
        lines.removeAt(2);
        writeLines(path, lines);
        const AuditVerification v = AuditTrail::verifyFile(path);
        QVERIFY(!v.intact);
        QCOMPARE(v.brokenSeq, 3);
        QCOMPARE(v.line, 3);
        QVERIFY2(v.message.contains(QStringLiteral("seq 4 follows seq 2: entry 3 is missing")),
                 qPrintable(v.message));

        // The first line too: the chain starts at seq 1 with an empty prevHash.
        const QString other = writeFive();
        auto all = readLines(other);
        all.removeFirst();
        writeLines(other, all);
        const AuditVerification w = AuditTrail::verifyFile(other);
        QCOMPARE(w.brokenSeq, 1);
        QCOMPARE(w.line, 1);
    }

    void reorderedOrGarbageLinesAreDetected()
    {
        const QString path = writeFive();
        auto lines = readLines(path);
        lines.swapItemsAt(1, 2);
        writeLines(path, lines);
        AuditVerification v = AuditTrail::verifyFile(path);
        QCOMPARE(v.brokenSeq, 2);
        QCOMPARE(v.line, 2);

        lines = readLines(writeFive());
        lines[3] = "{not json";
        const QString garbage = m_dir.filePath(QStringLiteral("garbage.jsonl"));
        writeLines(garbage, lines);
        v = AuditTrail::verifyFile(garbage);
        QCOMPARE(v.brokenSeq, 4);
        QCOMPARE(v.line, 4);
        QVERIFY(v.message.contains(QStringLiteral("not a JSON object")));
    }

    void reopeningContinuesTheChain()
    {
        const QString path = writeFive();
        AuditTrail again(path);
        QVERIFY(!again.open());
        QCOMPARE(again.lastSeq(), 5);
        QSignalSpy appended(&again, &AuditTrail::appended);
        const auto e = again.record(AuditKind::Operation, QStringLiteral("cluster"), {},
                                    QStringLiteral("finished"), true);
        QVERIFY(e);
        QCOMPARE(e.value().seq, 6);
        QCOMPARE(appended.size(), 1);
        const AuditVerification v = AuditTrail::verifyFile(path);
        QVERIFY2(v.intact, qPrintable(v.message));
        QCOMPARE(v.lastSeq, 6);
    }

    void aBrokenLastLineRefusesToContinue()
    {
        const QString path = writeFive();
        QFile f(path);
        QVERIFY(f.open(QIODevice::Append));
        f.write("{\"seq\":6,\"trunc");
        f.close();
        AuditTrail trail(path);
        const auto error = trail.open();
        QVERIFY(error);
        QCOMPARE(error->file, path);
        QVERIFY2(error->message.contains(QStringLiteral("last line")), qPrintable(error->message));
        QVERIFY(!trail.record(AuditKind::Ssh, {}, {}, {}, true));
    }

    void missingFileIsAnEmptyChainUnreadableIsNot()
    {
        const AuditVerification none =
            AuditTrail::verifyFile(m_dir.filePath(QStringLiteral("none.jsonl")));
        QVERIFY(none.intact);
        QVERIFY(none.readable);
        QCOMPARE(none.entries, 0);
        const QString dir = m_dir.filePath(QStringLiteral("a-directory.jsonl"));
        QVERIFY(QDir().mkpath(dir));
        const AuditVerification unreadable = AuditTrail::verifyFile(dir);
        QVERIFY(!unreadable.readable);
        QVERIFY(!unreadable.intact);
    }

    void secretsAreMasked()
    {
        const QString secretsDir = m_dir.filePath(QStringLiteral("secrets"));
        QVERIFY(QDir().mkpath(secretsDir));
        QFile pw(secretsDir + QStringLiteral("/pg_repmgr_password"));
        QVERIFY(pw.open(QIODevice::WriteOnly));
        pw.write("Rep-Secret-42\n");
        pw.close();

        const QString path = m_dir.filePath(QStringLiteral("masked/cluster.jsonl"));
        AuditTrail trail(path);
        trail.masker().addSecretsDir(secretsDir);
        trail.masker().addSecret(QStringLiteral("typed-at-prompt"));
        trail.masker().addSecret(QStringLiteral("abc")); // too short to mask
        QCOMPARE(trail.masker().secretCount(), 2);
        trail.setOperation(QStringLiteral("switchover"), QStringLiteral("uses Rep-Secret-42 oops"));
        const auto e = trail.record(
            AuditKind::Ssh, QStringLiteral("swarm-01"),
            QStringLiteral("PGPASSWORD=hunter2 psql 'host=pg-1 password=s3cr3t user=repmgr' "
                           "postgresql://repmgr:urlpass@pg-2/repmgr --password topsecret "
                           "-c \"conninfo\" {\"api_key\": \"k-123\"} token: tok987 "
                           "echo Rep-Secret-42 typed-at-prompt abc"),
            QStringLiteral("exit 0, printed Rep-Secret-42"), true);
        QVERIFY(e);
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray stored = f.readAll();
        for (const char *secret : {"hunter2", "s3cr3t", "urlpass", "topsecret", "k-123", "tok987",
                                   "Rep-Secret-42", "typed-at-prompt"})
            QVERIFY2(!stored.contains(secret), secret);
        const QString args = e.value().arguments;
        QVERIFY2(args.contains(QStringLiteral("PGPASSWORD=*** psql")), qPrintable(args));
        QVERIFY(args.contains(QStringLiteral("user=repmgr")));
        QVERIFY(args.contains(QStringLiteral("postgresql://repmgr:***@pg-2/repmgr")));
        QVERIFY(args.contains(QStringLiteral("--password ***")));
        QVERIFY(args.contains(QStringLiteral(" abc")));
        QCOMPARE(e.value().reason, QStringLiteral("uses *** oops"));
        QVERIFY(AuditTrail::verifyFile(path).intact);
    }

    void fileAndMirrorAreCompared()
    {
        const QString path = writeFive();
        const AuditVerification file = AuditTrail::verifyFile(path);
        auto lines = readLines(path);
        // The mirror as etcd would hold it: the same values, one per key.
        AuditVerification etcd =
            AuditTrail::verifyRecords(lines.mid(0, 4), QStringLiteral("etcd /p/"), false);
        QVERIFY(etcd.intact);
        AuditVerification both = AuditTrail::compare(file, etcd);
        QVERIFY2(both.intact, qPrintable(both.message));
        QVERIFY2(both.notes.join(u' ').contains(QStringLiteral("seq 5..5 are not in etcd yet")),
                 qPrintable(both.notes.join(u' ')));

        // A file rewritten from seq 3 on, consistently re-sealed: only the mirror shows it.
        const QList<QByteArray> rewritten = resealedFrom(lines, 2, 2);
        const QString forged = m_dir.filePath(QStringLiteral("forged.jsonl"));
        writeLines(forged, rewritten);
        const AuditVerification forgedFile = AuditTrail::verifyFile(forged);
        QVERIFY(forgedFile.intact); // the file alone cannot tell
        both = AuditTrail::compare(forgedFile, etcd);
        QVERIFY(!both.intact);
        QCOMPARE(both.brokenSeq, 3);
        QCOMPARE(both.line, 3);
        QVERIFY(both.message.contains(QStringLiteral("differs between the file and etcd /p/")));

        // Lines cut from the end of the file: the mirror has more.
        const QString cut = m_dir.filePath(QStringLiteral("cut.jsonl"));
        writeLines(cut, lines.mid(0, 2));
        both = AuditTrail::compare(AuditTrail::verifyFile(cut), etcd);
        QVERIFY(both.notes.join(u' ').contains(QStringLiteral("etcd has seq 3..4")));
    }

    // An etcd newer than the trail (a recreated lab) mirrors from a later seq
    // on: noted, not broken, as long as its first entry follows the file's.
    void mirrorThatBeginsLaterIsNotBroken()
    {
        const QString path = writeFive();
        const AuditVerification file = AuditTrail::verifyFile(path);
        const auto lines = readLines(path);
        const AuditVerification etcd =
            AuditTrail::verifyRecords(lines.mid(2), QStringLiteral("etcd /p/"), false);
        QVERIFY2(etcd.intact, qPrintable(etcd.message));
        QVERIFY2(etcd.notes.join(u' ').contains(QStringLiteral("etcd /p/ begins at seq 3")),
                 qPrintable(etcd.notes.join(u' ')));
        const AuditVerification both = AuditTrail::compare(file, etcd);
        QVERIFY2(both.intact, qPrintable(both.message));

        // The file's seq 2 rewritten and re-sealed with the rest: etcd's seq 3
        // no longer follows it.
        const QList<QByteArray> rewritten = resealedFrom(lines, 1, 1, 1);
        const QString forged = m_dir.filePath(QStringLiteral("forged-early.jsonl"));
        writeLines(forged, rewritten);
        const AuditVerification forgedBoth =
            AuditTrail::compare(AuditTrail::verifyFile(forged), etcd);
        QVERIFY(!forgedBoth.intact);
        QCOMPARE(forgedBoth.brokenSeq, 2);
        QVERIFY2(forgedBoth.message.contains(QStringLiteral("is not the entry etcd /p/ follows")),
                 qPrintable(forgedBoth.message));

        // A gap inside the mirror is still a break.
        QList<QByteArray> gap = lines.mid(1, 1) + lines.mid(3);
        const AuditVerification holed =
            AuditTrail::verifyRecords(gap, QStringLiteral("etcd"), false);
        QVERIFY(!holed.intact);
        QCOMPARE(holed.brokenSeq, 3);
    }

    void keysSortAsSeqs()
    {
        const QByteArray prefix = AuditTrail::etcdPrefix(QStringLiteral("pilothouse"));
        QCOMPARE(prefix, QByteArray("/pilothouse/pilothouse/audit/"));
        QCOMPARE(AuditTrail::etcdKey(prefix, 42),
                 QByteArray("/pilothouse/pilothouse/audit/000000000042"));
        QVERIFY(AuditTrail::etcdKey(prefix, 9) < AuditTrail::etcdKey(prefix, 10));
    }
};

QTEST_GUILESS_MAIN(TestAuditTrail)
#include "tst_audittrail.moc"
