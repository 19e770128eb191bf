// FindingsModel follows successive polls by key: rows are inserted, removed,
// moved and changed, never reset, and stay ordered most severe first.

#include "models/findingsmodel.h"

#include <QAbstractItemModelTester>
#include <QImage>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTest>

#include <algorithm>

using namespace Pilothouse;

namespace {

Finding finding(Severity severity, const QString &code, const QStringList &objects,
                const QString &message = {})
{
    return {severity, code, message.isEmpty() ? code + QStringLiteral(" happened") : message,
            objects};
}

QStringList keys(const FindingsModel &model)
{
    QStringList out;
    for (int row = 0; row < model.rowCount(); ++row)
        out.append(model.index(row, 0).data(FindingsModel::KeyRole).toString());
    return out;
}

} // namespace

class TestFindingsModel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void mostSevereFirst()
    {
        FindingsModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setFindings(
            {finding(Severity::Info, QStringLiteral("cert-expiring"), {QStringLiteral("cert:app")}),
             finding(Severity::Critical, QStringLiteral("two-primaries"),
                     {QStringLiteral("pg:pg-1"), QStringLiteral("pg:pg-2")}),
             finding(Severity::Warning, QStringLiteral("lag"), {QStringLiteral("pg:pg-3")})});
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.columnCount(), int(FindingsModel::ColumnCount));
        QCOMPARE(model.index(0, FindingsModel::SeverityColumn).data().toString(),
                 QStringLiteral("Critical"));
        QCOMPARE(model.index(1, FindingsModel::SeverityColumn).data().toString(),
                 QStringLiteral("Warning"));
        QCOMPARE(model.index(2, FindingsModel::SeverityColumn).data().toString(),
                 QStringLiteral("Info"));
        QCOMPARE(model.index(0, FindingsModel::SeverityColumn).data(FindingsModel::RawValueRole),
                 QVariant(int(Severity::Critical)));
        QCOMPARE(model.index(0, FindingsModel::MessageColumn).data().toString(),
                 QStringLiteral("two-primaries happened"));
        QCOMPARE(model.index(0, FindingsModel::ObjectsColumn).data().toString(),
                 QStringLiteral("pg:pg-1, pg:pg-2"));
        // The objects on every column, for a view that was clicked anywhere on the row.
        for (int column = 0; column < FindingsModel::ColumnCount; ++column) {
            QCOMPARE(model.index(0, column).data(FindingsModel::ObjectsRole).toStringList(),
                     (QStringList{QStringLiteral("pg:pg-1"), QStringLiteral("pg:pg-2")}));
        }
        QCOMPARE(model.index(0, FindingsModel::SeverityColumn).data(FindingsModel::ObjectsRole),
                 QVariant(QStringList{QStringLiteral("pg:pg-1"), QStringLiteral("pg:pg-2")}));
        QCOMPARE(model.headerData(FindingsModel::MessageColumn, Qt::Horizontal).toString(),
                 QStringLiteral("Finding"));
    }

    void updatesByKeyWithoutReset()
    {
        FindingsModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        QSignalSpy moved(&model, &QAbstractItemModel::rowsMoved);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

        const Finding a =
            finding(Severity::Warning, QStringLiteral("lag"), {QStringLiteral("pg:pg-2")});
        const Finding b =
            finding(Severity::Warning, QStringLiteral("lag"), {QStringLiteral("pg:pg-3")});
        const Finding c =
            finding(Severity::Info, QStringLiteral("cert"), {QStringLiteral("cert:x")});
        model.setFindings({a, b, c});
        QCOMPARE(inserted.size(), 3);

        // The same poll again: nothing at all.
        model.setFindings({a, b, c});
        QCOMPARE(inserted.size(), 3);
        QCOMPARE(changed.size(), 0);

        // A new message for a kept key is a change, not a new row.
        QPersistentModelIndex bRow = model.index(1, FindingsModel::MessageColumn);
        Finding b2 = b;
        b2.message = QStringLiteral("pg-3 is 40 MiB behind");
        model.setFindings({a, b2, c});
        QCOMPARE(changed.size(), 1);
        QVERIFY(bRow.isValid());
        QCOMPARE(bRow.data().toString(), b2.message);

        // b escalates: it moves to the top, its persistent index follows.
        Finding b3 = b2;
        b3.severity = Severity::Critical;
        model.setFindings({a, b3, c});
        QCOMPARE(moved.size(), 1);
        QCOMPARE(bRow.row(), 0);
        QCOMPARE(bRow.data().toString(), b2.message);
        QCOMPARE(model.index(0, 0).data().toString(), QStringLiteral("Critical"));

        // a clears, d appears.
        const Finding d = finding(Severity::Warning, QStringLiteral("pgpool-disagrees"),
                                  {QStringLiteral("pgpool:t1"), QStringLiteral("pg:pg-1")});
        model.setFindings({b3, c, d});
        QCOMPARE(removed.size(), 1);
        QCOMPARE(inserted.size(), 4);
        QCOMPARE(keys(model), (QStringList{FindingsModel::keyOf(b3), FindingsModel::keyOf(d),
                                           FindingsModel::keyOf(c)}));

        // Everything clears.
        model.setFindings({});
        QCOMPARE(model.rowCount(), 0);
        QCOMPARE(reset.size(), 0);
    }

    void keepsPlaceWithinSeverity()
    {
        FindingsModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy moved(&model, &QAbstractItemModel::rowsMoved);
        const Finding a = finding(Severity::Warning, QStringLiteral("a"), {});
        const Finding b = finding(Severity::Warning, QStringLiteral("b"), {});
        model.setFindings({a, b});
        // The engine reports them in another order: the rows stay where they are.
        model.setFindings({b, a});
        QCOMPARE(moved.size(), 0);
        QCOMPARE(keys(model), (QStringList{FindingsModel::keyOf(a), FindingsModel::keyOf(b)}));
    }

    void duplicatesCountOnce()
    {
        FindingsModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        const Finding a = finding(Severity::Critical, QStringLiteral("quorum-lost"),
                                  {QStringLiteral("etcd:etcd1")});
        model.setFindings({a, a});
        QCOMPARE(model.rowCount(), 1);
        // Same code, other objects: another finding.
        model.setFindings({a, finding(Severity::Critical, QStringLiteral("quorum-lost"),
                                      {QStringLiteral("etcd:etcd2")})});
        QCOMPARE(model.rowCount(), 2);
    }

    void randomPolls()
    {
        FindingsModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QRandomGenerator random(4);
        for (int poll = 0; poll < 300; ++poll) {
            QList<Finding> findings;
            const int count = int(random.bounded(8));
            for (int i = 0; i < count; ++i) {
                const int n = int(random.bounded(10));
                findings.append(finding(Severity(random.bounded(3)),
                                        QStringLiteral("code-%1").arg(n % 4),
                                        {QStringLiteral("pg:pg-%1").arg(n)},
                                        QStringLiteral("message %1").arg(random.bounded(3))));
            }
            model.setFindings(findings);

            QSet<QString> wanted;
            for (const Finding &f : std::as_const(findings))
                wanted.insert(FindingsModel::keyOf(f));
            const QStringList shown = keys(model);
            QCOMPARE(QSet<QString>(shown.cbegin(), shown.cend()), wanted);
            QCOMPARE(shown.size(), wanted.size());
            for (int row = 1; row < model.rowCount(); ++row) {
                QVERIFY(model.index(row - 1, 0).data(FindingsModel::RawValueRole).toInt() >=
                        model.index(row, 0).data(FindingsModel::RawValueRole).toInt());
            }
        }
        QCOMPARE(reset.size(), 0);
    }

    void severityIconsDifferInShape()
    {
        FindingsModel model;
        model.setFindings({finding(Severity::Warning, QStringLiteral("w"), {})});
        const QVariant decoration =
            model.index(0, FindingsModel::SeverityColumn).data(Qt::DecorationRole);
        QVERIFY(decoration.canConvert<QIcon>());
        QVERIFY(!model.index(0, FindingsModel::MessageColumn).data(Qt::DecorationRole).isValid());

        // The same icon greyed (disabled) still has its shape: compare alpha masks.
        QList<QImage> masks;
        for (const Severity s : {Severity::Info, Severity::Warning, Severity::Critical}) {
            const QImage image = FindingsModel::severityIcon(s)
                                     .pixmap(QSize(32, 32), 1.0, QIcon::Disabled)
                                     .toImage()
                                     .convertToFormat(QImage::Format_Alpha8);
            QCOMPARE(image.size(), QSize(32, 32));
            QVERIFY(image.pixelColor(16, 16).alpha() > 0);
            masks.append(image);
        }
        QVERIFY(masks.at(0) != masks.at(1));
        QVERIFY(masks.at(1) != masks.at(2));
        QVERIFY(masks.at(0) != masks.at(2));
        // Sharp at a device pixel ratio of 2.
        const QPixmap hiDpi =
            FindingsModel::severityIcon(Severity::Critical).pixmap(QSize(16, 16), 2.0);
        QCOMPARE(hiDpi.size(), QSize(32, 32));
        QCOMPARE(hiDpi.deviceIndependentSize(), QSizeF(16, 16));
    }
};

QTEST_MAIN(TestFindingsModel)
#include "tst_findingsmodel.moc"
