#pragma once
// Lives on the GUI thread.

#include <QAbstractTableModel>
#include <QByteArray>
#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QTimer>

namespace Pilothouse {

// The operations audit trail of one cluster, newest first, read from its
// JSONL file (format: app/operations/README.md). poll() does nothing while
// the file's size and time stay the same; when they change it reads the file
// (local, small lines), parses only the lines appended, inserts their entries
// at the top and checks each against the one before it, so the
// hash chain's state is known live. When the file was rewritten (a line
// edited or removed, the file cut), the file is read again and the rows are
// updated by key (the entry's seq): changed rows change, missing rows go,
// nothing is reset.
//
// The chain check repeats what `pilothouse audit verify` does for the file
// (seqs 1, 2, 3…, each hash over the canonical JSON of the other fields,
// each prevHash the previous hash); the etcd mirror is not compared here.
class AuditModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AuditModel)

public:
    enum Column {
        TimeColumn,
        UserColumn,
        OperationColumn,
        KindColumn,
        TargetColumn,
        ArgumentsColumn,
        ResultColumn,
        OkColumn,
        ColumnCount
    };
    enum Role {
        RawValueRole = Qt::UserRole + 1, // QDateTime (UTC), strings, ok as bool
        SeqRole,                         // qint64, on every column
        ChainOkRole,                     // bool: this entry and the chain up to it check out
        KindRole,                        // QString, on every column
        OkRole,                          // bool, on every column
        ReasonRole,                      // QString, on every column
    };

    enum class ChainState { Empty, Intact, Broken, Unreadable };
    Q_ENUM(ChainState)

    struct Entry
    {
        qint64 seq = 0;
        QDateTime time;
        QString user;
        QString host;
        QString operation;
        QString reason;
        QString kind;
        QString target;
        QString arguments;
        QString result;
        bool ok = true;
        QString prevHash;
        QString hash;
        int line = 0;        // 1-based line of the file
        bool chainOk = true; // this entry's own hash and link check out
        QString problem;     // why not, when not

        bool operator==(const Entry &other) const;
    };

    explicit AuditModel(QObject *parent = nullptr);

    // Reads `path` now and then every `intervalMs` (0: only when poll() is called).
    void setFilePath(const QString &path, int intervalMs = 1000);
    QString filePath() const { return m_path; }
    // Reads what was appended (or the whole file when it was rewritten).
    void poll();

    ChainState chainState() const { return m_state; }
    // "12 entries, chain intact", "seq 3 was edited (line 3)", "cannot read …".
    QString chainText() const { return m_chainText; }
    qint64 brokenSeq() const { return m_brokenSeq; }

    const Entry &entry(int row) const { return m_rows.at(row); }
    int rowOfSeq(qint64 seq) const;

    // SHA-256 (hex) of the compact JSON of `object` without "hash": the
    // entry's own seal, as the AuditTrail computes it.
    static QString hashOf(const QJsonObject &object);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void chainStateChanged(Pilothouse::AuditModel::ChainState state, const QString &text);

private:
    struct Parsed
    {
        QList<Entry> entries; // file order
        QString firstProblem;
        qint64 firstProblemSeq = -1;
        int badLines = 0;
    };
    // Checks `e` against the previous entry of the file and seals its state.
    void check(Entry &e, const Entry *previous, Parsed &into) const;
    Parsed parse(const QByteArray &bytes, int firstLine, const Entry *previous) const;
    void reread(const QByteArray &all);
    void appendNew(const Parsed &parsed);
    void merge(const QList<Entry> &fileOrder);
    void setState(ChainState state, const QString &text);
    void updateChainText();

    QString m_path;
    QTimer m_timer;
    QList<Entry> m_rows;     // newest first
    qint64 m_offset = 0;     // bytes consumed: up to the end of the last complete line
    QByteArray m_prefixHash; // SHA-1 of those bytes, to notice a rewrite
    qint64 m_size = -1;      // the file when last read
    QDateTime m_modified;
    int m_lines = 0;
    Entry m_last; // the last entry of the file (the chain's head)
    bool m_hasLast = false;
    QString m_firstProblem;
    qint64 m_brokenSeq = -1;
    int m_badLines = 0;
    ChainState m_state = ChainState::Empty;
    QString m_chainText;
};

} // namespace Pilothouse
