// The certificate wizard offscreen against the real lab, driven as an
// operator would: a key of another certificate is refused in the preflight
// (nothing changed); a new certificate is rotated in (the preflight shows it
// and what each HAProxy serves, the run ends with every host serving it);
// then a rollback serves the lab's own certificate again. The certificates
// are made by openssl in a temporary directory. Screenshots go to
// test-output/screenshots/lab-certificate-*.png.

#include "app/maintenanceruns.h"
#include "ui/operations/certificatewizard.h"

#include <QAbstractButton>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QRadioButton>
#include <QSslCertificate>
#include <QTemporaryDir>
#include <QTest>

#include "tests/guisupport.h"
#include "tests/integration/labaccess.h"

using namespace Pilothouse;

namespace {

QAbstractButton *next(QWizard *w)
{
    QAbstractButton *commit = w->button(QWizard::CommitButton);
    return commit->isVisible() ? commit : w->button(QWizard::NextButton);
}

} // namespace

class TestCertificateWizardLab final : public QObject
{
    Q_OBJECT

    LabAccess m_lab;
    QTemporaryDir m_dir;
    QString m_original;
    QString m_new;

    QString path(const QString &name) const { return m_dir.filePath(name); }

    QStringList servedEverywhere() const
    {
        QStringList out;
        for (const InventoryHost &h : m_lab.inventory().hosts)
            out.append(LabAccess::servedSha256(h.address, m_lab.inventory().settings.domain));
        return out;
    }

    std::unique_ptr<CertificateWizard> wizard()
    {
        auto w = std::make_unique<CertificateWizard>(
            [this](bool rollback, const QString &certificate, const QString &key, QObject *owner) {
                return createCertificateRun(m_lab.inventory(), rollback, certificate, key, owner);
            });
        w->reasonEdit()->setText(QStringLiteral("tst_certificate_wizard_lab"));
        w->show();
        return w;
    }

    static void shot(QWidget *w, const QString &name)
    {
        QVERIFY(TestSupport::saveScreenshot(w, QStringLiteral("lab-certificate-%1.png").arg(name),
                                            QSize(600, 400)));
    }

    static bool prepared(CertificateWizard *w)
    {
        return LabAccess::waitUntil(
            [w] { return w->operation() && !w->operation()->isPreparing(); }, 90000, 100);
    }

    // Runs the wizard from the preflight to the result; false when the run failed.
    static bool runToTheEnd(CertificateWizard *w, const QString &tag)
    {
        next(w)->click();
        if (w->currentId() != CertificateWizard::RunPage)
            return false;
        LabAccess::waitUntil([w] { return w->runPage()->isFinished(); }, 180000, 200);
        shot(w, tag + QStringLiteral("-run"));
        if (!w->runPage()->finishedOk())
            qWarning() << w->runPage()->summary();
        next(w)->click();
        shot(w, tag + QStringLiteral("-result"));
        return w->currentId() == CertificateWizard::ResultPage && w->runPage()->finishedOk();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_lab.open(), qPrintable(m_lab.error()));
        QVERIFY(m_dir.isValid());
        qputenv("XDG_DATA_HOME", m_dir.filePath(QStringLiteral("data")).toUtf8());
        qputenv("XDG_CONFIG_HOME", m_dir.filePath(QStringLiteral("config")).toUtf8());
        const QString domain = m_lab.inventory().settings.domain;
        for (const QString &name : {QStringLiteral("new"), QStringLiteral("other")}) {
            const LabAccess::Run r = LabAccess::local(
                QStringLiteral("openssl"),
                {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
                 QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
                 QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
                 QStringLiteral("-days"), QStringLiteral("60"), QStringLiteral("-subj"),
                 QStringLiteral("/CN=%1/O=Wizard test").arg(domain), QStringLiteral("-addext"),
                 QStringLiteral("subjectAltName=DNS:") + domain, QStringLiteral("-keyout"),
                 path(name + QStringLiteral(".key")), QStringLiteral("-out"),
                 path(name + QStringLiteral(".crt"))},
                60000);
            QVERIFY2(r.ok(), r.err.constData());
        }
        m_new = QString::fromLatin1(QSslCertificate::fromPath(path(QStringLiteral("new.crt")))
                                        .value(0)
                                        .digest(QCryptographicHash::Sha256)
                                        .toHex());
        const QStringList before = servedEverywhere();
        QCOMPARE(before.count(before.value(0)), 3);
        m_original = before.value(0);
        QVERIFY(!m_original.isEmpty() && m_original != m_new);
    }

    void aKeyOfAnotherCertificateIsRefusedInThePreflight()
    {
        auto w = wizard();
        w->certificateEdit()->setText(path(QStringLiteral("new.crt")));
        w->keyEdit()->setText(path(QStringLiteral("other.key")));
        QVERIFY(next(w.get())->isEnabled());
        next(w.get())->click();
        QCOMPARE(w->currentId(), int(CertificateWizard::PreflightPage));
        QVERIFY(prepared(w.get()));
        QVERIFY(!next(w.get())->isEnabled());
        QVERIFY2(w->refusalsLabel()->text().contains(
                     QStringLiteral("does not belong to the certificate")),
                 qPrintable(w->refusalsLabel()->text()));
        shot(w.get(), QStringLiteral("1-refused"));
        w->close();
        QCOMPARE(servedEverywhere(), QStringList(3, m_original));
    }

    void aNewCertificateIsServedEverywhere()
    {
        auto w = wizard();
        shot(w.get(), QStringLiteral("2-choose"));
        w->certificateEdit()->setText(path(QStringLiteral("new.crt")));
        w->keyEdit()->setText(path(QStringLiteral("new.key")));
        next(w.get())->click();
        QVERIFY(prepared(w.get()));
        const QString preflight = w->preflightView()->toPlainText();
        QVERIFY2(preflight.contains(QStringLiteral("The certificate given: CN=")),
                 qPrintable(preflight));
        QVERIFY2(preflight.contains(QStringLiteral("haproxy@swarm-03 serves ") + m_original),
                 qPrintable(preflight));
        QVERIFY2(next(w.get())->isEnabled(), qPrintable(w->refusalsLabel()->text()));
        shot(w.get(), QStringLiteral("3-preflight"));
        QVERIFY(runToTheEnd(w.get(), QStringLiteral("4-rotate")));
        QVERIFY(w->resultLabel()->text().contains(QStringLiteral("serve the new certificate")));
        QVERIFY(!w->detailsView()->toPlainText().contains(QStringLiteral("PRIVATE KEY")));
        QCOMPARE(servedEverywhere(), QStringList(3, m_new));
        w->close();
    }

    void rollbackServesTheLabCertificateAgain()
    {
        auto w = wizard();
        w->rollbackButton()->setChecked(true);
        QVERIFY(!w->certificateEdit()->isEnabled());
        next(w.get())->click();
        QVERIFY(prepared(w.get()));
        QVERIFY2(w->preflightView()->toPlainText().contains(QStringLiteral("kept for rollback: ") +
                                                            m_original),
                 qPrintable(w->preflightView()->toPlainText()));
        QCOMPARE(w->button(QWizard::CommitButton)->text(), QStringLiteral("&Roll back"));
        QVERIFY(runToTheEnd(w.get(), QStringLiteral("5-rollback")));
        QCOMPARE(servedEverywhere(), QStringList(3, m_original));
        w->close();
    }

    void cleanupTestCase()
    {
        // Whatever failed above, the lab serves its own certificate again.
        if (!m_new.isEmpty() && servedEverywhere().contains(m_new)) {
            auto w = wizard();
            w->rollbackButton()->setChecked(true);
            next(w.get())->click();
            if (prepared(w.get()) && next(w.get())->isEnabled())
                runToTheEnd(w.get(), QStringLiteral("cleanup"));
        }
        m_lab.ssh(QStringLiteral("swarm-01"),
                  QStringLiteral("docker secret rm proxy_tls_pem-%1 2>/dev/null; true")
                      .arg(m_new.left(12)));
    }
};

QTEST_MAIN(TestCertificateWizardLab)
#include "tst_certificate_wizard_lab.moc"
