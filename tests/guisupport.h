#pragma once
// Helpers shared by the gui suites; used on the test's main thread only.

#include <QCoreApplication>
#include <QDir>
#include <QImage>
#include <QSize>
#include <QString>
#include <QWidget>

namespace Pilothouse::TestSupport {

// Where a suite's screenshots go for a person to look at:
// build/test-output/screenshots/<name>. The folder is made if missing.
inline QString screenshotPath(const QString &name)
{
    const QString dir = QStringLiteral(PILOTHOUSE_TEST_OUTPUT_DIR "/screenshots");
    QDir().mkpath(dir);
    return dir + u'/' + name;
}

// Lays out what is pending, grabs the widget and saves it there; false when
// the image is empty, smaller than `minimum`, or cannot be written.
inline bool saveScreenshot(QWidget *widget, const QString &name, QSize minimum = {})
{
    QCoreApplication::processEvents();
    const QImage image = widget->grab().toImage();
    if (image.isNull() || image.width() < minimum.width() || image.height() < minimum.height())
        return false;
    return image.save(screenshotPath(name));
}

} // namespace Pilothouse::TestSupport
