#include "models/findingsmodel.h"

#include <QHash>
#include <QIconEngine>
#include <QPainter>
#include <QPainterPath>
#include <QPixmap>
#include <QSet>
#include <QStringBuilder>

#include <array>
#include <cmath>

namespace Pilothouse {

namespace {

// Paints a severity badge as vectors, so that it is sharp at any size and
// device pixel ratio without shipping image files in a Gui-only library.
class SeverityIconEngine final : public QIconEngine
{
public:
    explicit SeverityIconEngine(Severity severity)
        : m_severity(severity)
    {}

    void paint(QPainter *painter, const QRect &rect, QIcon::Mode mode, QIcon::State) override
    {
        const qreal side = qMin(rect.width(), rect.height());
        QRectF r(0, 0, side, side);
        r.moveCenter(QRectF(rect).center());
        const qreal u = side / 16.0; // one unit of a 16 px grid

        QPainterPath shape;
        QColor fill;
        QColor glyph = Qt::white;
        qreal glyphShift = 0;
        switch (m_severity) {
        case Severity::Info:
            fill = QColor(0x2f, 0x6f, 0xd1);
            shape.addEllipse(r.adjusted(u * 0.5, u * 0.5, -u * 0.5, -u * 0.5));
            break;
        case Severity::Warning:
            fill = QColor(0xe8, 0xa8, 0x00);
            glyph = QColor(0x20, 0x20, 0x20);
            glyphShift = 1.2 * u;
            shape.moveTo(r.center().x(), r.top() + u * 0.5);
            shape.lineTo(r.right() - u * 0.3, r.bottom() - u);
            shape.lineTo(r.left() + u * 0.3, r.bottom() - u);
            shape.closeSubpath();
            break;
        case Severity::Critical: {
            fill = QColor(0xd0, 0x31, 0x2d);
            const qreal radius = side / 2.0 - u * 0.4;
            for (int k = 0; k < 8; ++k) {
                const double angle = (22.5 + 45.0 * k) * M_PI / 180.0;
                const QPointF p =
                    r.center() + QPointF(radius * std::cos(angle), radius * std::sin(angle));
                k == 0 ? shape.moveTo(p) : shape.lineTo(p);
            }
            shape.closeSubpath();
            break;
        }
        }
        if (mode == QIcon::Disabled) {
            const int grey = qGray(fill.rgb());
            fill = QColor(grey, grey, grey);
        }

        painter->save();
        painter->setRenderHint(QPainter::Antialiasing);
        painter->setPen(QPen(fill.darker(140), qMax(1.0, u * 0.7)));
        painter->setBrush(fill);
        painter->drawPath(shape);

        painter->setPen(Qt::NoPen);
        painter->setBrush(glyph);
        const qreal cx = r.center().x();
        const qreal top = r.top() + glyphShift;
        const qreal bar = 2.0 * u;
        if (m_severity == Severity::Info) {
            painter->drawEllipse(QPointF(cx, top + 4.5 * u), 1.2 * u, 1.2 * u);
            painter->drawRoundedRect(QRectF(cx - bar / 2, top + 6.8 * u, bar, 5.6 * u), u * 0.6,
                                     u * 0.6);
        } else {
            painter->drawRoundedRect(QRectF(cx - bar / 2, top + 3.4 * u, bar, 5.6 * u), u * 0.6,
                                     u * 0.6);
            painter->drawEllipse(QPointF(cx, top + 11.0 * u), 1.15 * u, 1.15 * u);
        }
        painter->restore();
    }

    QPixmap pixmap(const QSize &size, QIcon::Mode mode, QIcon::State state) override
    {
        return scaledPixmap(size, mode, state, 1.0);
    }

    QPixmap scaledPixmap(const QSize &size, QIcon::Mode mode, QIcon::State state,
                         qreal scale) override
    {
        // Qt 6.4 passes the size in device pixels here.
        QPixmap pixmap(size);
        pixmap.fill(Qt::transparent);
        pixmap.setDevicePixelRatio(scale);
        QPainter painter(&pixmap);
        paint(&painter, QRect(QPoint(), (QSizeF(size) / scale).toSize()), mode, state);
        return pixmap;
    }

    QIconEngine *clone() const override { return new SeverityIconEngine(m_severity); }
    QString key() const override { return QStringLiteral("pilothouse-severity"); }

private:
    Severity m_severity;
};

constexpr std::array<Severity, 3> s_mostSevereFirst = {Severity::Critical, Severity::Warning,
                                                       Severity::Info};

} // namespace

FindingsModel::FindingsModel(QObject *parent)
    : QAbstractTableModel(parent)
{}

QString FindingsModel::keyOf(const Finding &finding)
{
    return finding.code % u'|' % finding.objects.join(u',');
}

QIcon FindingsModel::severityIcon(Severity severity)
{
    return QIcon(new SeverityIconEngine(severity));
}

QString FindingsModel::severityText(Severity severity)
{
    switch (severity) {
    case Severity::Info:
        return tr("Info");
    case Severity::Warning:
        return tr("Warning");
    case Severity::Critical:
        return tr("Critical");
    }
    return {};
}

int FindingsModel::rowOfKey(const QString &key, int from) const
{
    return int(m_keys.indexOf(key, from));
}

void FindingsModel::setFindings(const QList<Finding> &findings)
{
    // The wanted rows by key; a finding reported twice counts once.
    QHash<QString, Finding> wanted;
    QStringList wantedOrder;
    for (const Finding &f : findings) {
        const QString key = keyOf(f);
        if (!wanted.contains(key)) {
            wanted.insert(key, f);
            wantedOrder.append(key);
        }
    }

    // Remove rows that are gone, bottom up and in contiguous runs.
    for (int row = int(m_keys.size()) - 1; row >= 0; --row) {
        if (wanted.contains(m_keys.at(row)))
            continue;
        int first = row;
        while (first > 0 && !wanted.contains(m_keys.at(first - 1)))
            --first;
        beginRemoveRows({}, first, row);
        m_findings.remove(first, row - first + 1);
        m_keys.remove(first, row - first + 1);
        endRemoveRows();
        row = first;
    }

    // The target order: by severity; kept rows in their current order, then new ones.
    const QSet<QString> present(m_keys.cbegin(), m_keys.cend());
    QStringList target;
    target.reserve(wanted.size());
    for (const Severity severity : s_mostSevereFirst) {
        for (const QString &key : std::as_const(m_keys)) {
            if (wanted.value(key).severity == severity)
                target.append(key);
        }
        for (const QString &key : std::as_const(wantedOrder)) {
            if (!present.contains(key) && wanted.value(key).severity == severity)
                target.append(key);
        }
    }

    for (int row = 0; row < int(target.size()); ++row) {
        const QString &key = target.at(row);
        const Finding &f = *wanted.constFind(key);
        if (row < m_keys.size() && m_keys.at(row) == key) {
            Finding &current = m_findings[row];
            if (current.severity != f.severity || current.message != f.message ||
                current.code != f.code) {
                current = f;
                Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
            }
            continue;
        }
        const int from = rowOfKey(key, row + 1);
        if (from >= 0) {
            // Only a change of severity moves a row.
            beginMoveRows({}, from, from, {}, row);
            m_findings.move(from, row);
            m_keys.move(from, row);
            endMoveRows();
            m_findings[row] = f;
            Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
        } else {
            beginInsertRows({}, row, row);
            m_findings.insert(row, f);
            m_keys.insert(row, key);
            endInsertRows();
        }
    }
}

int FindingsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_findings.size());
}

int FindingsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant FindingsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Finding &f = m_findings.at(index.row());
    switch (role) {
    case ObjectsRole:
        return f.objects;
    case KeyRole:
        return m_keys.at(index.row());
    case CodeRole:
        return f.code;
    default:
        break;
    }
    switch (Column(index.column())) {
    case SeverityColumn:
        switch (role) {
        case Qt::DisplayRole:
            return severityText(f.severity);
        case Qt::DecorationRole:
            return severityIcon(f.severity);
        case Qt::ToolTipRole:
            return tr("%1 (%2)").arg(severityText(f.severity), f.code);
        case RawValueRole:
            return int(f.severity);
        }
        break;
    case MessageColumn:
        switch (role) {
        case Qt::DisplayRole:
        case RawValueRole:
            return f.message;
        case Qt::ToolTipRole:
            return f.objects.isEmpty()
                       ? f.message
                       : tr("%1\nConcerns: %2").arg(f.message, f.objects.join(QLatin1String(", ")));
        }
        break;
    case ObjectsColumn:
        switch (role) {
        case Qt::DisplayRole:
        case Qt::ToolTipRole:
            return f.objects.join(QLatin1String(", "));
        case RawValueRole:
            return f.objects;
        }
        break;
    case ColumnCount:
        break;
    }
    return {};
}

QVariant FindingsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (Column(section)) {
    case SeverityColumn:
        return tr("Severity");
    case MessageColumn:
        return tr("Finding");
    case ObjectsColumn:
        return tr("Concerns");
    case ColumnCount:
        break;
    }
    return {};
}

} // namespace Pilothouse
