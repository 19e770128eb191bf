// OperationContext when a host cannot be reached: each call's callback comes
// exactly once with an error that names the host, and nothing crashes. (A
// failure delivered before the call started used to run a function that its
// own delivery had just destroyed.) No I/O beyond a refused local connection.

#include "app/operations/operationcontext.h"

#include <QTcpServer>
#include <QTest>

using namespace Pilothouse;

class TestOperationContext : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void unreachableHostFailsEachCallOnce()
    {
        // A port nobody listens on: take one, then close it.
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost));
        const quint16 port = probe.serverPort();
        probe.close();

        Inventory inventory;
        InventoryHost host;
        host.name = QStringLiteral("nowhere-01");
        host.address = QStringLiteral("127.0.0.1");
        host.sshPort = port;
        host.user = QStringLiteral("root");
        inventory.hosts.append(host);

        OperationContext context(inventory, nullptr, nullptr, QStringLiteral("test"), QString());
        int dockerAnswers = 0, sshAnswers = 0;
        QString dockerError, sshError;
        context.docker(QStringLiteral("nowhere-01"), "GET", QStringLiteral("/info"), {}, 10000,
                       [&](const Result<DockerResponse> &r) {
                           ++dockerAnswers;
                           dockerError = r ? QString() : r.error().message;
                       });
        context.ssh(QStringLiteral("nowhere-01"), QStringLiteral("true"), 10000,
                    [&](const Result<SshCommandResult> &r) {
                        ++sshAnswers;
                        sshError = r ? QString() : r.error().message;
                    });
        QTRY_VERIFY_WITH_TIMEOUT(dockerAnswers == 1 && sshAnswers == 1, 15000);
        QVERIFY2(dockerError.contains(u"nowhere-01"), qPrintable(dockerError));
        QVERIFY2(sshError.contains(u"nowhere-01"), qPrintable(sshError));
        // Nothing is delivered twice afterwards.
        QTest::qWait(200);
        QCOMPARE(dockerAnswers, 1);
        QCOMPARE(sshAnswers, 1);
    }
};

QTEST_GUILESS_MAIN(TestOperationContext)
#include "tst_operationcontext.moc"
