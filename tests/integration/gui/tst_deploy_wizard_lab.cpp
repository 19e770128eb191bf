// The deploy wizard offscreen against the real lab, driven as an operator
// would: a small stack file whose external secret does not exist yet; the
// plan says so and offers a masked field; the value typed, Plan again, Deploy;
// the service runs and the secret exists (made from the typed value). A second
// plan changes nothing; a malformed file is refused on the plan page with its
// line. Screenshots of each page go to test-output/screenshots/lab-deploy-*.png.

#include "app/deployrun.h"
#include "ui/operations/deploywizard.h"

#include <QAbstractButton>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

#include "tests/guisupport.h"
#include "tests/integration/labaccess.h"

using namespace Pilothouse;

namespace {

const QString Stack = QStringLiteral("phwizard");
const QString Secret = QStringLiteral("phwizard_token");
const QByteArray SecretValue = "typed-in-the-wizard-7f3a";

const char *const StackYaml = R"(version: "3.8"
services:
  echo:
    image: pilothouse/app:lab
    entrypoint: ["/bin/sh", "-c"]
    command: ["exec sleep 86400"]
    secrets: [phwizard_token]
    stop_grace_period: 2s
    deploy:
      replicas: 1
      placement: {constraints: ["node.role == manager"]}
secrets:
  phwizard_token: {external: true}
)";

QAbstractButton *next(QWizard *w)
{
    QAbstractButton *commit = w->button(QWizard::CommitButton);
    return commit->isVisible() ? commit : w->button(QWizard::NextButton);
}

// "action" of the plan row whose first column is `what`; empty when none.
QString actionOf(QTreeWidget *tree, const QString &what)
{
    for (int i = 0; i < tree->topLevelItemCount(); ++i) {
        if (tree->topLevelItem(i)->text(0) == what)
            return tree->topLevelItem(i)->text(1);
    }
    return {};
}

QString rows(QTreeWidget *tree)
{
    QStringList out;
    for (int i = 0; i < tree->topLevelItemCount(); ++i)
        out.append(tree->topLevelItem(i)->text(0) + u' ' + tree->topLevelItem(i)->text(1) + u' ' +
                   tree->topLevelItem(i)->text(2));
    return out.join(QStringLiteral(" | "));
}

} // namespace

class TestDeployWizardLab final : public QObject
{
    Q_OBJECT

    LabAccess m_lab;
    QTemporaryDir m_dir;

    QString stackFile() const { return m_dir.filePath(QStringLiteral("stack.yml")); }

    std::unique_ptr<DeployWizard> wizard(const QString &file)
    {
        auto w = std::make_unique<DeployWizard>(
            [this](const QString &f, const QString &stack,
                   const QHash<QString, QByteArray> &secrets, QObject *owner) {
                return createStackDeployRun(m_lab.inventory(), f, stack, secrets, owner);
            },
            file, Stack);
        w->reasonEdit()->setText(QStringLiteral("tst_deploy_wizard_lab"));
        w->show();
        return w;
    }

    static void shot(QWidget *w, const QString &name)
    {
        QVERIFY(TestSupport::saveScreenshot(
            w, QStringLiteral("lab-deploy-") + name + QStringLiteral(".png"), QSize(600, 400)));
    }

    static bool planned(DeployWizard *w)
    {
        return LabAccess::waitUntil(
            [w] { return w->operation() && !w->operation()->isPreparing(); }, 90000, 100);
    }

    QString docker(const QString &command) const
    {
        return QString::fromUtf8(m_lab.ssh(QStringLiteral("swarm-01"), command, 60000).out)
            .trimmed();
    }

    void removeAll()
    {
        docker(QStringLiteral("docker stack rm %1 >/dev/null 2>&1; true").arg(Stack));
        LabAccess::waitUntil(
            [this] {
                return docker(
                           QStringLiteral(
                               "docker service ls -q --filter label=com.docker.stack.namespace=%1")
                               .arg(Stack))
                    .isEmpty();
            },
            60000, 1000);
        // A secret goes once no task uses it any more.
        LabAccess::waitUntil(
            [this] {
                docker(QStringLiteral("docker secret rm %1 >/dev/null 2>&1; true").arg(Secret));
                return docker(QStringLiteral("docker secret ls -q --filter name=%1").arg(Secret))
                    .isEmpty();
            },
            60000, 2000);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_lab.open(), qPrintable(m_lab.error()));
        QVERIFY(m_dir.isValid());
        // The console's audit trail and settings stay in the temporary directory.
        qputenv("XDG_DATA_HOME", m_dir.filePath(QStringLiteral("data")).toUtf8());
        qputenv("XDG_CONFIG_HOME", m_dir.filePath(QStringLiteral("config")).toUtf8());
        QFile f(stackFile());
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(StackYaml);
        f.close();
        removeAll();
    }

    void aMissingSecretIsTypedThenTheStackIsDeployed()
    {
        auto w = wizard(stackFile());
        shot(w.get(), QStringLiteral("1-stack"));
        QVERIFY(next(w.get())->isEnabled());
        next(w.get())->click();
        QCOMPARE(w->currentId(), int(DeployWizard::PlanPage));
        QVERIFY(planned(w.get()));
        QCOMPARE(actionOf(w->planTree(), QStringLiteral("secret ") + Secret),
                 QStringLiteral("conflict"));
        QCOMPARE(actionOf(w->planTree(), QStringLiteral("service %1_echo").arg(Stack)),
                 QStringLiteral("create"));
        QLineEdit *value = w->secretEdit(Secret);
        QVERIFY2(value, qPrintable(rows(w->planTree())));
        QCOMPARE(value->echoMode(), QLineEdit::Password);
        QVERIFY(!next(w.get())->isEnabled());
        QVERIFY(w->refusalsLabel()->isVisible());
        QVERIFY(w->refusalsLabel()->text().contains(Secret));
        shot(w.get(), QStringLiteral("2-plan-wants-secret"));

        value->setText(QString::fromUtf8(SecretValue));
        w->planAgainButton()->click();
        QVERIFY(planned(w.get()));
        QCOMPARE(actionOf(w->planTree(), QStringLiteral("secret ") + Secret),
                 QStringLiteral("create"));
        QVERIFY2(next(w.get())->isEnabled(), qPrintable(w->refusalsLabel()->text()));
        QVERIFY(!w->refusalsLabel()->isVisible());
        shot(w.get(), QStringLiteral("3-plan"));

        next(w.get())->click();
        QCOMPARE(w->currentId(), int(DeployWizard::RunPage));
        QVERIFY2(LabAccess::waitUntil([&w] { return w->runPage()->isFinished(); }, 240000, 200),
                 "the deploy did not finish within 240 s");
        shot(w.get(), QStringLiteral("4-run"));
        QVERIFY2(w->runPage()->finishedOk(), qPrintable(w->runPage()->summary()));
        next(w.get())->click();
        QCOMPARE(w->currentId(), int(DeployWizard::ResultPage));
        QVERIFY(w->resultLabel()->text().contains(QStringLiteral("Deployed stack ") + Stack));
        QVERIFY(!w->detailsView()->toPlainText().contains(QString::fromUtf8(SecretValue)));
        shot(w.get(), QStringLiteral("5-result"));

        // What the Swarm now runs: the service, and the secret made from the typed value.
        QCOMPARE(docker(QStringLiteral(
                            "docker service ls --filter name=%1_echo --format '{{.Replicas}}'")
                            .arg(Stack)),
                 QStringLiteral("1/1"));
        QCOMPARE(docker(QStringLiteral("docker secret inspect %1 --format '{{index .Spec.Labels "
                                       "\"io.pilothouse.typed\"}}'")
                            .arg(Secret)),
                 QStringLiteral("true"));
        const QString task = docker(
            QStringLiteral("docker ps -q --filter label=com.docker.swarm.service.name=%1_echo")
                .arg(Stack));
        if (!task.isEmpty()) // the task may run on another host: then its content is checked there
            QCOMPARE(docker(QStringLiteral("docker exec %1 cat /run/secrets/%2").arg(task, Secret))
                         .toUtf8(),
                     SecretValue);
        w->close();
    }

    void aSecondPlanChangesNothing()
    {
        auto w = wizard(stackFile());
        next(w.get())->click();
        QVERIFY(planned(w.get()));
        QCOMPARE(actionOf(w->planTree(), QStringLiteral("secret ") + Secret),
                 QStringLiteral("external"));
        QCOMPARE(actionOf(w->planTree(), QStringLiteral("service %1_echo").arg(Stack)),
                 QStringLiteral("unchanged"));
        QVERIFY(!w->secretEdit(Secret));
        w->close();
    }

    void aMalformedFileIsRefusedWithItsLine()
    {
        const QString bad = m_dir.filePath(QStringLiteral("bad.yml"));
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("version: \"3.8\"\nservices:\n  echo:\n    image: pilothouse/app:lab\n    "
                "replicas: [1\n");
        f.close();
        auto w = wizard(bad);
        next(w.get())->click();
        QVERIFY(planned(w.get()));
        QVERIFY(!next(w.get())->isEnabled());
        QVERIFY2(w->refusalsLabel()->text().contains(QStringLiteral("bad.yml:")),
                 qPrintable(w->refusalsLabel()->text()));
        shot(w.get(), QStringLiteral("6-bad-file"));
        w->close();
    }

    void cleanupTestCase() { removeAll(); }
};

QTEST_MAIN(TestDeployWizardLab)
#include "tst_deploy_wizard_lab.moc"
