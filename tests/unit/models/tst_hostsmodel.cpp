// HostsModel under QAbstractItemModelTester while setHosts() inserts, changes
// and removes hosts by name.

#include "models/hostsmodel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

using namespace Pilothouse;

namespace {

InventoryHost host(int n, int port = 15122)
{
    return {QStringLiteral("swarm-0%1").arg(n),
            QStringLiteral("10.213.0.1%1").arg(n),
            port,
            QStringLiteral("root"),
            {},
            {QStringLiteral("all"), QStringLiteral("swarm_managers")}};
}

} // namespace

class TestHostsModel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void mutatorsUnderTester()
    {
        HostsModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        model.setHosts({host(1), host(2), host(3)});
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.columnCount(), int(HostsModel::ColumnCount));

        QPersistentModelIndex third = model.index(2, HostsModel::Name);
        model.setHosts({host(1), host(3, 22)}); // swarm-02 leaves, swarm-03 changes port
        QCOMPARE(model.rowCount(), 2);
        QVERIFY(third.isValid());
        QCOMPARE(third.data().toString(), QStringLiteral("swarm-03"));
        QCOMPARE(model.index(third.row(), HostsModel::SshPort).data(HostsModel::RawValueRole),
                 QVariant(22));
        QCOMPARE(model.index(0, HostsModel::Groups).data().toString(),
                 QStringLiteral("all, swarm_managers"));

        model.setHosts({host(2), host(1), host(3, 22)});
        QCOMPARE(model.rowCount(), 3);
        model.setHosts({});
        QCOMPARE(model.rowCount(), 0);
        QCOMPARE(reset.size(), 0);
    }
};

QTEST_MAIN(TestHostsModel)
#include "tst_hostsmodel.moc"
