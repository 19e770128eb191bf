// AuditModel on a trail file: the fixture (fixtures/audit.jsonl, eight entries
// written with the AuditTrail's format: compact JSON, keys sorted, SHA-256
// chain; checked below by the engine's own verifier) copied to a temporary
// folder, then grown, cut, edited and garbled the way a file can be.

#include "app/operations/audittrail.h"
#include "models/auditmodel.h"

#include <QAbstractItemModelTester>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace Pilothouse;

namespace {
const QString Fixture =
    QStringLiteral(PILOTHOUSE_SOURCE_DIR "/tests/gui/operations/fixtures/audit.jsonl");

QList<QByteArray> readLines(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QList<QByteArray> lines = f.readAll().split('\n');
    if (!lines.isEmpty() && lines.constLast().isEmpty())
        lines.removeLast();
    return lines;
}

bool writeLines(const QString &path, const QList<QByteArray> &lines)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    for (const QByteArray &l : lines)
        f.write(l + '\n');
    return true;
}
} // namespace

class TestAuditModel final : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_path;

private Q_SLOTS:
    void init()
    {
        m_path = m_dir.filePath(QStringLiteral("cluster.jsonl"));
        QFile::remove(m_path);
        QVERIFY(QFile::copy(Fixture, m_path));
        QFile::setPermissions(m_path, QFile::ReadOwner | QFile::WriteOwner);
    }

    void fixtureIsARealChain()
    {
        const AuditVerification v = AuditTrail::verifyFile(Fixture);
        QVERIFY2(v.intact, qPrintable(v.message));
        QCOMPARE(v.entries, 8);
    }

    void readsNewestFirstWithChainIntact()
    {
        AuditModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setFilePath(m_path, 0);
        QCOMPARE(model.rowCount(), 8);
        QCOMPARE(model.columnCount(), int(AuditModel::ColumnCount));
        QCOMPARE(model.index(0, 0).data(AuditModel::SeqRole).toLongLong(), 8);
        QCOMPARE(model.index(7, 0).data(AuditModel::SeqRole).toLongLong(), 1);
        QCOMPARE(model.chainState(), AuditModel::ChainState::Intact);
        QVERIFY2(model.chainText().contains(u"seq 8"), qPrintable(model.chainText()));
        // seq 7 is the failed ssh command.
        const int failed = model.rowOfSeq(7);
        QCOMPARE(model.index(failed, AuditModel::OkColumn).data().toString(),
                 QStringLiteral("failed"));
        QCOMPARE(model.index(failed, AuditModel::KindColumn).data().toString(),
                 QStringLiteral("ssh"));
        QCOMPARE(model.index(failed, AuditModel::TargetColumn).data().toString(),
                 QStringLiteral("swarm-02"));
        QCOMPARE(model.index(failed, AuditModel::UserColumn).data().toString(),
                 QStringLiteral("alice"));
        QCOMPARE(
            model.index(failed, AuditModel::TimeColumn).data(AuditModel::RawValueRole).toDateTime(),
            QDateTime::fromString(QStringLiteral("2026-11-26T10:02:14.002Z"), Qt::ISODateWithMs));
        QVERIFY(model.index(failed, AuditModel::ArgumentsColumn)
                    .data()
                    .toString()
                    .contains(u"docker ps"));
        QVERIFY(
            model.index(failed, AuditModel::ResultColumn).data().toString().contains(u"refused"));
        QVERIFY(!model.index(failed, AuditModel::OkColumn).data(Qt::DecorationRole).isNull());
        QVERIFY(model.index(0, AuditModel::OkColumn).data(Qt::DecorationRole).isNull());
    }

    void growsByAppendingRowsOnTop()
    {
        AuditModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setFilePath(m_path, 0);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        const QPersistentModelIndex oldest = model.index(7, 0);

        // Appended by the real trail, as an operation would.
        AuditTrail trail(m_path);
        QVERIFY(!trail.open().has_value());
        QCOMPARE(trail.lastSeq(), 8);
        trail.setIdentity(QStringLiteral("bob"), QStringLiteral("ws2"));
        trail.setOperation(QStringLiteral("drill kill-pgpool"), QStringLiteral("quarterly drill"));
        QVERIFY(trail.record(AuditKind::Docker, QStringLiteral("pgpool@swarm-02"),
                             QStringLiteral("kill task"), QStringLiteral("exit 0"), true));
        QVERIFY(trail.record(AuditKind::Operation, QStringLiteral("cluster"),
                             QStringLiteral("drill finished"), QStringLiteral("ok"), true));
        model.poll();
        QCOMPARE(model.rowCount(), 10);
        QCOMPARE(inserted.size(), 1);
        QCOMPARE(inserted.first().at(1).toInt(), 0);
        QCOMPARE(inserted.first().at(2).toInt(), 1);
        QCOMPARE(model.index(0, 0).data(AuditModel::SeqRole).toLongLong(), 10);
        QCOMPARE(model.index(1, AuditModel::UserColumn).data().toString(), QStringLiteral("bob"));
        QCOMPARE(model.index(1, 0).data(AuditModel::ReasonRole).toString(),
                 QStringLiteral("quarterly drill"));
        QCOMPARE(oldest.row(), 9);
        QCOMPARE(oldest.data(AuditModel::SeqRole).toLongLong(), 1);
        QCOMPARE(model.chainState(), AuditModel::ChainState::Intact);

        // Nothing new: nothing happens.
        model.poll();
        QCOMPARE(inserted.size(), 1);

        // Half a line (being written) waits for its end.
        QList<QByteArray> lines = readLines(m_path);
        QJsonObject next = QJsonDocument::fromJson(lines.constLast()).object();
        const QString head = next.value(QStringLiteral("hash")).toString();
        next.insert(QStringLiteral("seq"), 11);
        next.insert(QStringLiteral("prevHash"), head);
        next.insert(QStringLiteral("hash"), AuditModel::hashOf(next));
        const QByteArray line = QJsonDocument(next).toJson(QJsonDocument::Compact);
        {
            QFile f(m_path);
            QVERIFY(f.open(QIODevice::Append));
            f.write(line.left(40));
        }
        model.poll();
        QCOMPARE(model.rowCount(), 10);
        {
            QFile f(m_path);
            QVERIFY(f.open(QIODevice::Append));
            f.write(line.mid(40) + '\n');
        }
        model.poll();
        QCOMPARE(model.rowCount(), 11);
        QCOMPARE(model.chainState(), AuditModel::ChainState::Intact);
        QCOMPARE(AuditTrail::verifyFile(m_path).intact, true);
        QCOMPARE(resets.size(), 0);
    }

    void anEditedEntryBreaksTheChainWhereVerifySays()
    {
        AuditModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setFilePath(m_path, 0);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy state(&model, &AuditModel::chainStateChanged);
        const QPersistentModelIndex third = model.index(model.rowOfSeq(3), 0);

        QList<QByteArray> lines = readLines(m_path);
        lines[2].replace("\"user\":\"alice\"", "\"user\":\"mallory\"");
        QVERIFY(writeLines(m_path, lines));
        model.poll();
        QCOMPARE(model.rowCount(), 8);
        QCOMPARE(model.chainState(), AuditModel::ChainState::Broken);
        QCOMPARE(model.brokenSeq(), 3);
        QVERIFY2(model.chainText().contains(u"seq 3 was edited"), qPrintable(model.chainText()));
        QCOMPARE(state.size(), 1);
        const AuditVerification v = AuditTrail::verifyFile(m_path);
        QVERIFY(!v.intact);
        QCOMPARE(v.brokenSeq, model.brokenSeq());
        // The row changed in place: same index, new value, marked.
        QVERIFY(third.isValid());
        QCOMPARE(third.sibling(third.row(), AuditModel::UserColumn).data().toString(),
                 QStringLiteral("mallory"));
        QCOMPARE(third.data(AuditModel::ChainOkRole).toBool(), false);
        QVERIFY(!third.data(Qt::DecorationRole).isNull());
        QVERIFY(changed.size() >= 1);
        QCOMPARE(resets.size(), 0);
    }

    void aRemovedEntryIsNamed()
    {
        AuditModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setFilePath(m_path, 0);
        QList<QByteArray> lines = readLines(m_path);
        lines.removeAt(4); // seq 5
        QVERIFY(writeLines(m_path, lines));
        model.poll();
        QCOMPARE(model.rowCount(), 7);
        QCOMPARE(model.rowOfSeq(5), -1);
        QCOMPARE(model.chainState(), AuditModel::ChainState::Broken);
        QCOMPARE(model.brokenSeq(), 5);
        QVERIFY2(model.chainText().contains(u"entry 5 is missing"), qPrintable(model.chainText()));
        QCOMPARE(AuditTrail::verifyFile(m_path).brokenSeq, 5);

        // Put back: intact again, the row returns in its place.
        QVERIFY(QFile::remove(m_path));
        QVERIFY(QFile::copy(Fixture, m_path));
        model.poll();
        QCOMPARE(model.rowCount(), 8);
        QCOMPARE(model.rowOfSeq(5), 3);
        QCOMPARE(model.chainState(), AuditModel::ChainState::Intact);
    }

    void garbageAndMissingFiles()
    {
        AuditModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setFilePath(m_dir.filePath(QStringLiteral("none.jsonl")), 0);
        QCOMPARE(model.rowCount(), 0);
        QCOMPARE(model.chainState(), AuditModel::ChainState::Empty);

        model.setFilePath(m_path, 0);
        QCOMPARE(model.rowCount(), 8);
        {
            QFile f(m_path);
            QVERIFY(f.open(QIODevice::Append));
            f.write("not json at all\n");
        }
        model.poll();
        QCOMPARE(model.rowCount(), 8);
        QCOMPARE(model.chainState(), AuditModel::ChainState::Broken);
        QVERIFY2(model.chainText().contains(u"line 9"), qPrintable(model.chainText()));

        // The file goes away: the rows go, one by one.
        QVERIFY(QFile::remove(m_path));
        model.poll();
        QCOMPARE(model.rowCount(), 0);
        QCOMPARE(model.chainState(), AuditModel::ChainState::Empty);
    }

    void pollsOnItsOwn()
    {
        AuditModel model;
        model.setFilePath(m_path, 50);
        QCOMPARE(model.rowCount(), 8);
        AuditTrail trail(m_path);
        QVERIFY(!trail.open().has_value());
        trail.setOperation(QStringLiteral("switchover pg-1"), QStringLiteral("back"));
        QVERIFY(trail.record(AuditKind::Sql, QStringLiteral("pg-1"), QStringLiteral("SELECT 1"),
                             QStringLiteral("1"), true));
        QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 9, 2000);
    }
};

QTEST_MAIN(TestAuditModel)
#include "tst_auditmodel.moc"
