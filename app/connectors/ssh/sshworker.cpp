#include "app/connectors/ssh/sshcommand.h"
#include "app/connectors/ssh/sshknownhosts.h"
#include "app/connectors/ssh/sshlocalserver_p.h"
#include "app/connectors/ssh/sshworker_p.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSocketNotifier>
#include <QThread>
#include <QTimer>

#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace Pilothouse::Internal {
namespace {

constexpr qsizetype MaxBuffered = 4 * 1024 * 1024; // per direction of a forwarded connection
constexpr int ReadChunk = 64 * 1024;

QString seconds(int ms)
{
    return QString::number(ms / 1000.0, 'f', 1) + QStringLiteral(" s");
}

// A private directory for forwarded sockets: $XDG_RUNTIME_DIR/pilothouse, else
// /tmp/pilothouse-<uid>; refused unless it is ours and closed to others.
QString makePrivateDirectory(QString *error)
{
    const QString runtime = qEnvironmentVariable("XDG_RUNTIME_DIR");
    const QString base = (!runtime.isEmpty() && QFileInfo(runtime).isDir())
                             ? runtime + QStringLiteral("/pilothouse")
                             : QStringLiteral("/tmp/pilothouse-%1").arg(::getuid());
    const QByteArray baseName = QFile::encodeName(base);
    if (::mkdir(baseName.constData(), 0700) != 0 && errno != EEXIST) {
        *error = QStringLiteral("cannot create %1: %2")
                     .arg(base, QString::fromLocal8Bit(::strerror(errno)));
        return {};
    }
    struct stat st = {};
    if (::lstat(baseName.constData(), &st) != 0 || !S_ISDIR(st.st_mode) ||
        st.st_uid != ::getuid() || (st.st_mode & 077) != 0) {
        *error = QStringLiteral("refusing to put sockets in %1: it must be a directory owned "
                                "by uid %2 with mode 0700")
                     .arg(base)
                     .arg(::getuid());
        return {};
    }
    QByteArray pattern = baseName + "/fwd-XXXXXX";
    if (!::mkdtemp(pattern.data())) {
        *error = QStringLiteral("cannot create a directory in %1: %2")
                     .arg(base, QString::fromLocal8Bit(::strerror(errno)));
        return {};
    }
    return QFile::decodeName(pattern);
}

// docker.sock for /var/run/docker.sock: recognisable, and short enough for sun_path.
QString localSocketName(const QString &remotePath)
{
    QString name;
    for (const QChar c : remotePath.section(u'/', -1).left(40)) {
        if (c.isLetterOrNumber() || c == u'.' || c == u'-' || c == u'_')
            name += c;
    }
    return name.isEmpty() ? QStringLiteral("socket") : name;
}

// Notifiers and servers may be dropped from inside their own signal: delete later.
template<typename T> void dropLater(std::unique_ptr<T> &object)
{
    if (!object)
        return;
    object->disconnect();
    object.release()->deleteLater();
}

void dropNotifier(std::unique_ptr<QSocketNotifier> &notifier)
{
    if (notifier)
        notifier->setEnabled(false);
    dropLater(notifier);
}

// opened: the server confirmed the channel. Closing one it never confirmed
// (denied, or still opening) would name a channel id the server does not
// have, and OpenSSH drops the whole connection for that.
void freeChannel(ssh_channel &channel, void *callbacks, bool opened)
{
    if (!channel)
        return;
    if (callbacks)
        ssh_remove_channel_callbacks(channel, static_cast<ssh_channel_callbacks>(callbacks));
    // close sends EOF and CLOSE when not yet sent (also in answer to the
    // server's CLOSE); free forgets the channel once both sides closed it.
    if (opened)
        ssh_channel_close(channel);
    ssh_channel_free(channel);
    channel = nullptr;
}

} // namespace

SshWorker::SshWorker(QObject *parent)
    : QObject(parent)
{}

SshWorker::~SshWorker()
{
    // Normally shutdown() already ran on the worker thread.
    releaseSession();
}

// ---- public slots (worker thread) -------------------------------------------------------------

void SshWorker::start(const SshOptions &options)
{
    if (m_stage != Stage::Idle)
        return;
    m_options = options;
    if (!m_deadlineTimer) {
        m_deadlineTimer = std::make_unique<QTimer>();
        m_deadlineTimer->setSingleShot(true);
        connect(m_deadlineTimer.get(), &QTimer::timeout, this, &SshWorker::pump);
    }

    m_session = ssh_new();
    if (!m_session) {
        Q_EMIT failed(QStringLiteral("cannot create an SSH session for %1 (libssh)").arg(where()));
        return;
    }
    // Non-blocking: every libssh call returns SSH_AGAIN instead of waiting,
    // and pump() calls it again when the socket or a deadline says so.
    ssh_set_blocking(m_session, 0);
    // The host is the key the configuration is looked up by (its HostName
    // may translate it, as with ssh); every other explicit value is set after
    // parsing, so the inventory wins over the configuration.
    const QByteArray host = m_options.host.toUtf8();
    ssh_options_set(m_session, SSH_OPTIONS_HOST, host.constData());
    if (m_options.useSshConfig) {
        const QByteArray configFile = QFile::encodeName(m_options.sshConfigFile);
        if (ssh_options_parse_config(
                m_session, configFile.isEmpty() ? nullptr : configFile.constData()) != SSH_OK) {
            const QString message =
                QStringLiteral("cannot read the SSH configuration "
                               "(~/.ssh/config or /etc/ssh/ssh_config) for %1: %2")
                    .arg(where(), sshError());
            releaseSession();
            Q_EMIT failed(message);
            return;
        }
    } else {
        bool process = false;
        ssh_options_set(m_session, SSH_OPTIONS_PROCESS_CONFIG, &process);
    }
    if (m_options.port > 0) {
        const unsigned int port = unsigned(m_options.port);
        ssh_options_set(m_session, SSH_OPTIONS_PORT, &port);
    }
    if (!m_options.user.isEmpty()) {
        const QByteArray user = m_options.user.toUtf8();
        ssh_options_set(m_session, SSH_OPTIONS_USER, user.constData());
    }
    if (!m_options.knownHostsFile.isEmpty()) {
        const QByteArray file = QFile::encodeName(m_options.knownHostsFile);
        ssh_options_set(m_session, SSH_OPTIONS_KNOWNHOSTS, file.constData());
    }
    // Messages name what is actually used, wherever it came from.
    unsigned int effectivePort = 0;
    if (ssh_options_get_port(m_session, &effectivePort) == SSH_OK)
        m_options.port = int(effectivePort);
    char *value = nullptr;
    if (m_options.user.isEmpty() &&
        ssh_options_get(m_session, SSH_OPTIONS_USER, &value) == SSH_OK) {
        m_options.user = QString::fromUtf8(value);
        ssh_string_free_char(value);
    }
    value = nullptr;
    if (ssh_options_get(m_session, SSH_OPTIONS_HOST, &value) == SSH_OK) {
        m_effectiveHost = QString::fromUtf8(value);
        ssh_string_free_char(value);
    } else {
        m_effectiveHost = m_options.host;
    }
    const long timeoutSeconds = qMax(1, (m_options.connectTimeoutMs + 999) / 1000);
    ssh_options_set(m_session, SSH_OPTIONS_TIMEOUT, &timeoutSeconds);
    const int noDelay = 1;
    ssh_options_set(m_session, SSH_OPTIONS_NODELAY, &noDelay);

    m_authTried.clear();
    m_authProblems.clear();
    m_connectDeadline.setRemainingTime(m_options.connectTimeoutMs);
    m_stage = Stage::Connecting;
    pump();
}

void SshWorker::decideHostKey(bool accept, bool persist)
{
    if (m_stage != Stage::HostKeyDecision)
        return;
    if (!accept) {
        abort(QStringLiteral("the host key of %1 was rejected; not connecting").arg(where()));
        return;
    }
    if (persist && ssh_session_update_known_hosts(m_session) != SSH_OK) {
        abort(QStringLiteral("cannot add the host key of %1 to %2: %3")
                  .arg(where(), knownHostsPath(), sshError()));
        return;
    }
    // The person's think time does not count against the connect timeout.
    m_connectDeadline.setRemainingTime(m_options.connectTimeoutMs);
    startAuth();
    pump();
}

void SshWorker::startExec(quint64 id, const QByteArray &command, int timeoutMs)
{
    if (m_stage == Stage::Idle) {
        Q_EMIT execFinished(id, -1,
                            m_lastFailure.isEmpty()
                                ? QStringLiteral("not connected to %1: cannot run `%2`")
                                      .arg(where(), QString::fromUtf8(command))
                                : QStringLiteral("cannot run `%1`: %2")
                                      .arg(QString::fromUtf8(command), m_lastFailure));
        return;
    }
    auto exec = std::make_unique<Exec>();
    exec->worker = this;
    exec->id = id;
    exec->command = command;
    exec->wire = m_options.stopCommandsOnCancel ? SshCommand::stoppable(command) : command;
    exec->timeoutMs = timeoutMs;
    exec->deadline.setRemainingTime(timeoutMs);
    m_execs.emplace(id, std::move(exec));
    pump();
}

void SshWorker::cancelExec(quint64 id)
{
    const auto it = m_execs.find(id);
    if (it == m_execs.end())
        return;
    it->second->cancelled = true;
    pump();
}

void SshWorker::startForward(const QString &remotePath, int timeoutMs)
{
    if (m_stage == Stage::Idle) {
        Q_EMIT forwardFailed(remotePath, QStringLiteral("not connected to %1").arg(where()));
        return;
    }
    const auto it = m_forwards.find(remotePath);
    if (it != m_forwards.end()) {
        if (it->second->ready)
            Q_EMIT forwardReady(remotePath, it->second->localPath);
        return; // a check in progress reports for both calls
    }
    auto forward = std::make_unique<Forward>();
    forward->remotePath = remotePath;
    forward->deadline.setRemainingTime(timeoutMs);
    m_forwards.emplace(remotePath, std::move(forward));
    pump();
}

void SshWorker::stopForward(const QString &remotePath)
{
    const auto it = m_forwards.find(remotePath);
    if (it == m_forwards.end())
        return;
    closeForward(*it->second);
    m_forwards.erase(it);
    // Connections already accepted go on until either side closes them.
}

void SshWorker::measureLatency(int timeoutMs)
{
    if (m_stage == Stage::Idle) {
        Q_EMIT latencyFailed(QStringLiteral("not connected to %1").arg(where()));
        return;
    }
    auto probe = std::make_unique<Probe>();
    probe->deadline.setRemainingTime(timeoutMs);
    m_probes.push_back(std::move(probe));
    pump();
}

void SshWorker::shutdown()
{
    for (auto &[id, exec] : m_execs)
        finishExec(*exec, -1,
                   QStringLiteral("disconnected from %1 before `%2` ended")
                       .arg(where(), QString::fromUtf8(exec->command)));
    m_execs.clear();
    releaseSession();
    m_stage = Stage::Idle;
    if (m_deadlineTimer)
        m_deadlineTimer->stop();
    m_deadlineTimer.reset();
    QThread::currentThread()->quit();
}

// ---- the pump ---------------------------------------------------------------------------------

void SshWorker::pump()
{
    if (m_pumping) {
        m_pumpAgain = true;
        return;
    }
    m_pumping = true;
    int rounds = 0;
    do {
        m_pumpAgain = false;
        switch (m_stage) {
        case Stage::Connecting:
            stepConnect();
            break;
        case Stage::Authenticating:
            stepAuth();
            break;
        case Stage::Ready:
            stepReady();
            break;
        case Stage::HostKeyDecision:
        case Stage::Idle:
            break;
        }
        // Callbacks ask for another round when they changed something; the
        // cap only guards against a peer that keeps us busy forever.
    } while (m_pumpAgain && ++rounds < 64);
    m_pumping = false;
    if (m_pumpAgain)
        QMetaObject::invokeMethod(this, &SshWorker::pump, Qt::QueuedConnection);
    updateWatchers();
}

void SshWorker::updateWatchers()
{
    const bool active = m_session && (m_stage == Stage::Connecting ||
                                      m_stage == Stage::Authenticating || m_stage == Stage::Ready);
    const int fd = m_session ? ssh_get_fd(m_session) : -1;
    if (active && fd >= 0 && (!m_readNotifier || m_readNotifier->socket() != fd)) {
        dropNotifier(m_readNotifier);
        dropNotifier(m_writeNotifier);
        m_readNotifier = std::make_unique<QSocketNotifier>(fd, QSocketNotifier::Read);
        connect(m_readNotifier.get(), &QSocketNotifier::activated, this, &SshWorker::pump);
        m_writeNotifier = std::make_unique<QSocketNotifier>(fd, QSocketNotifier::Write);
        connect(m_writeNotifier.get(), &QSocketNotifier::activated, this, &SshWorker::pump);
    }
    if (m_readNotifier) {
        // Nothing reads the socket while a person decides about the host key,
        // so watching it would only spin.
        m_readNotifier->setEnabled(active && fd >= 0);
        // libssh says when it has output queued (or a TCP connect pending).
        const bool wantWrite =
            active && fd >= 0 && (ssh_get_poll_flags(m_session) & SSH_WRITE_PENDING) != 0;
        m_writeNotifier->setEnabled(wantWrite);
    }

    if (!m_deadlineTimer)
        return;
    qint64 nearest = -1;
    auto consider = [&nearest](const QDeadlineTimer &d) {
        if (d.isForever())
            return;
        const qint64 left = qMax<qint64>(0, d.remainingTime());
        if (nearest < 0 || left < nearest)
            nearest = left;
    };
    if (m_stage == Stage::Connecting || m_stage == Stage::Authenticating)
        consider(m_connectDeadline);
    for (const auto &[id, exec] : m_execs)
        consider(exec->deadline);
    for (const auto &[path, forward] : m_forwards) {
        if (!forward->ready)
            consider(forward->deadline);
    }
    for (const auto &pipe : m_pipes) {
        if (!pipe->open)
            consider(pipe->openDeadline);
    }
    for (const auto &probe : m_probes)
        consider(probe->deadline);
    if (nearest < 0)
        m_deadlineTimer->stop();
    else
        m_deadlineTimer->start(int(qMin<qint64>(nearest + 1, 24 * 3600 * 1000)));
}

// ---- connecting -------------------------------------------------------------------------------

void SshWorker::stepConnect()
{
    if (m_connectDeadline.hasExpired()) {
        abort(QStringLiteral("timed out after %1 connecting to %2 (no SSH handshake: is the "
                             "host up and sshd listening on that port?)")
                  .arg(seconds(m_options.connectTimeoutMs), where()));
        return;
    }
    const int rc = ssh_connect(m_session);
    if (rc == SSH_AGAIN) {
        // A non-blocking connect that was refused (nothing listens on the
        // port) may keep libssh answering SSH_AGAIN until the deadline: the
        // socket's own error says it at once.
        const socket_t fd = ssh_get_fd(m_session);
        int error = 0;
        socklen_t length = sizeof error;
        if (fd != SSH_INVALID_SOCKET &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error != 0)
            abort(QStringLiteral("cannot connect to %1: %2")
                      .arg(where(), QString::fromLocal8Bit(std::strerror(error))));
        return;
    }
    if (rc != SSH_OK) {
        abort(QStringLiteral("cannot connect to %1: %2").arg(where(), sshError()));
        return;
    }
    checkHostKey();
}

void SshWorker::checkHostKey()
{
    ssh_key key = nullptr;
    if (ssh_get_server_publickey(m_session, &key) != SSH_OK || !key) {
        abort(QStringLiteral("%1 presented no usable host key: %2").arg(where(), sshError()));
        return;
    }
    unsigned char *hash = nullptr;
    size_t hashLength = 0;
    QString fingerprint;
    if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hashLength) == SSH_OK) {
        fingerprint = SshKnownHosts::formatSha256(
            QByteArray(reinterpret_cast<const char *>(hash), qsizetype(hashLength)));
        ssh_clean_pubkey_hash(&hash);
    }
    const enum ssh_keytypes_e type = ssh_key_type(key);
    QString keyType = QString::fromUtf8(ssh_key_type_to_char(type));
    if (type == SSH_KEYTYPE_ECDSA_P256 || type == SSH_KEYTYPE_ECDSA_P384 ||
        type == SSH_KEYTYPE_ECDSA_P521 || type == SSH_KEYTYPE_ECDSA) {
        keyType = QString::fromUtf8(ssh_pki_key_ecdsa_name(key));
    }
    ssh_key_free(key);

    HostKeyStatus status = HostKeyStatus::Error;
    switch (ssh_session_is_known_server(m_session)) {
    case SSH_KNOWN_HOSTS_OK:
        status = HostKeyStatus::Known;
        break;
    case SSH_KNOWN_HOSTS_UNKNOWN:
    case SSH_KNOWN_HOSTS_NOT_FOUND: // no known_hosts file yet: nothing is known
        status = HostKeyStatus::Unknown;
        break;
    case SSH_KNOWN_HOSTS_CHANGED:
        status = HostKeyStatus::Changed;
        break;
    case SSH_KNOWN_HOSTS_OTHER:
        status = HostKeyStatus::OtherType;
        break;
    case SSH_KNOWN_HOSTS_ERROR:
        break;
    }

    switch (SshKnownHosts::actionFor(status)) {
    case HostKeyAction::Proceed:
        startAuth();
        m_pumpAgain = true;
        return;
    case HostKeyAction::AskUser:
        m_stage = Stage::HostKeyDecision;
        Q_EMIT hostKeyUnknown(m_options.host, keyType, fingerprint);
        return;
    case HostKeyAction::Refuse:
        break;
    }
    if (status == HostKeyStatus::Error) {
        abort(QStringLiteral("cannot check the host key of %1 against %2: %3")
                  .arg(where(), knownHostsPath(), sshError()));
        return;
    }
    QFile file(knownHostsPath());
    const QByteArray content = file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
    const int port = m_options.port > 0 ? m_options.port : 22;
    abort(SshKnownHosts::changedKeyMessage(m_effectiveHost, port, knownHostsPath(),
                                           SshKnownHosts::keysFor(content, m_effectiveHost, port),
                                           keyType, fingerprint));
}

void SshWorker::startAuth()
{
    m_stage = Stage::Authenticating;
    m_authStep = m_options.useAgent ? 0 : 1;
}

void SshWorker::stepAuth()
{
    if (m_connectDeadline.hasExpired()) {
        abort(QStringLiteral("timed out after %1 authenticating to %2")
                  .arg(seconds(m_options.connectTimeoutMs), where()));
        return;
    }
    for (;;) {
        if (m_authStep == 0) {
            const int rc = ssh_userauth_publickey_auto(m_session, nullptr, nullptr);
            if (rc == SSH_AUTH_AGAIN)
                return;
            if (rc == SSH_AUTH_SUCCESS) {
                becomeReady();
                return;
            }
            if (rc == SSH_AUTH_ERROR) {
                abort(QStringLiteral("authentication with %1 failed: %2").arg(where(), sshError()));
                return;
            }
            m_authTried.append(QStringLiteral("ssh-agent and the default keys"));
            m_authStep = 1;
            continue;
        }
        const qsizetype index = m_authStep - 1;
        if (index >= m_options.identityFiles.size()) {
            abort(authFailureMessage());
            return;
        }
        const QString path = m_options.identityFiles.at(index);
        if (!m_authKey) {
            const QByteArray file = QFile::encodeName(path);
            if (ssh_pki_import_privkey_file(file.constData(), nullptr, nullptr, nullptr,
                                            &m_authKey) != SSH_OK) {
                m_authKey = nullptr;
                m_authProblems.append(
                    QStringLiteral("cannot read the private key %1 (missing, unreadable or "
                                   "protected by a passphrase)")
                        .arg(path));
                ++m_authStep;
                continue;
            }
        }
        const int rc = ssh_userauth_publickey(m_session, nullptr, m_authKey);
        if (rc == SSH_AUTH_AGAIN)
            return;
        ssh_key_free(m_authKey);
        m_authKey = nullptr;
        if (rc == SSH_AUTH_SUCCESS) {
            becomeReady();
            return;
        }
        if (rc == SSH_AUTH_ERROR) {
            abort(QStringLiteral("authentication with %1 failed: %2").arg(where(), sshError()));
            return;
        }
        m_authTried.append(path);
        ++m_authStep;
    }
}

QString SshWorker::authFailureMessage() const
{
    const int methods = ssh_userauth_list(m_session, nullptr);
    QStringList offered;
    if (methods & SSH_AUTH_METHOD_PUBLICKEY)
        offered.append(QStringLiteral("publickey"));
    if (methods & SSH_AUTH_METHOD_PASSWORD)
        offered.append(QStringLiteral("password"));
    if (methods & SSH_AUTH_METHOD_INTERACTIVE)
        offered.append(QStringLiteral("keyboard-interactive"));
    if (methods & SSH_AUTH_METHOD_GSSAPI_MIC)
        offered.append(QStringLiteral("gssapi-with-mic"));
    QString message =
        QStringLiteral("authentication failed for %1: the server accepted none of "
                       "the keys tried (%2)")
            .arg(where(), m_authTried.isEmpty() ? QStringLiteral("none")
                                                : m_authTried.join(QStringLiteral(", ")));
    if (!m_authProblems.isEmpty())
        message += QStringLiteral("; ") + m_authProblems.join(QStringLiteral("; "));
    if (!offered.isEmpty())
        message += QStringLiteral("; it offers: ") + offered.join(QStringLiteral(", "));
    message += QStringLiteral(". Check the user name and that the public key is in that user's "
                              "~/.ssh/authorized_keys on the host.");
    return message;
}

void SshWorker::becomeReady()
{
    // A peer that vanishes without a reset (power loss, a cut link) would
    // otherwise go unnoticed until some operation times out: let the kernel
    // probe an idle connection and give up on unacknowledged data, so that
    // the socket fails and the session reports the loss by itself.
    const int fd = ssh_get_fd(m_session);
    const int on = 1;
    const int idleSeconds = 10;
    const int intervalSeconds = 5;
    const int probes = 3;
    const unsigned int unackedMs = 30000;
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idleSeconds, sizeof idleSeconds);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intervalSeconds, sizeof intervalSeconds);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
    ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &unackedMs, sizeof unackedMs);

    m_event = ssh_event_new();
    if (!m_event || ssh_event_add_session(m_event, m_session) != SSH_OK) {
        abort(QStringLiteral("cannot watch the SSH session to %1 (libssh event)").arg(where()));
        return;
    }
    m_stage = Stage::Ready;
    m_lastFailure.clear();
    Q_EMIT connected();
    m_pumpAgain = true; // start whatever waited for the connection
}

// ---- connected --------------------------------------------------------------------------------

void SshWorker::stepReady()
{
    // Reads whatever arrived and runs the channel callbacks.
    const int rc = ssh_event_dopoll(m_event, 0);
    if (rc == SSH_ERROR || !ssh_is_connected(m_session) ||
        (ssh_get_status(m_session) & (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0) {
        const QString reason = sshError();
        abort(QStringLiteral("the connection to %1 was lost%2")
                  .arg(where(), reason.isEmpty() ? QString() : QStringLiteral(": ") + reason));
        return;
    }
    for (auto it = m_execs.begin(); it != m_execs.end() && m_stage == Stage::Ready;) {
        if (stepExec(*it->second))
            it = m_execs.erase(it);
        else
            ++it;
    }
    for (auto it = m_forwards.begin(); it != m_forwards.end() && m_stage == Stage::Ready;) {
        if (stepForward(*it->second))
            it = m_forwards.erase(it);
        else
            ++it;
    }
    for (auto it = m_pipes.begin(); it != m_pipes.end() && m_stage == Stage::Ready;) {
        if (stepPipe(**it))
            it = m_pipes.erase(it);
        else
            ++it;
    }
    for (auto it = m_probes.begin(); it != m_probes.end() && m_stage == Stage::Ready;) {
        if (stepProbe(**it))
            it = m_probes.erase(it);
        else
            ++it;
    }
}

bool SshWorker::stepExec(Exec &e)
{
    const QString command = QString::fromUtf8(e.command);
    if (e.cancelled) {
        finishExec(e, -1, QStringLiteral("cancelled: `%1` on %2").arg(command, where()));
        return true;
    }
    if (e.deadline.hasExpired()) {
        finishExec(e, -1,
                   QStringLiteral("timed out after %1: `%2` on %3")
                       .arg(seconds(e.timeoutMs), command, where()));
        return true;
    }
    switch (e.step) {
    case Exec::Step::Waiting:
        e.channel = ssh_channel_new(m_session);
        if (!e.channel) {
            finishExec(
                e, -1,
                QStringLiteral("cannot create a channel on %1: %2").arg(where(), sshError()));
            return true;
        }
        ssh_callbacks_init(&e.callbacks);
        e.callbacks.userdata = &e;
        e.callbacks.channel_data_function = &SshWorker::onExecData;
        e.callbacks.channel_close_function = &SshWorker::onExecClose;
        e.callbacks.channel_exit_status_function = &SshWorker::onExecExitStatus;
        e.callbacks.channel_exit_signal_function = &SshWorker::onExecExitSignal;
        ssh_set_channel_callbacks(e.channel, &e.callbacks);
        e.step = Exec::Step::Opening;
        [[fallthrough]];
    case Exec::Step::Opening: {
        const int rc = ssh_channel_open_session(e.channel);
        if (rc == SSH_AGAIN)
            return false;
        if (rc != SSH_OK) {
            finishExec(e, -1,
                       QStringLiteral("%1 refused a session channel for `%2`: %3")
                           .arg(where(), command, sshError()));
            return true;
        }
        e.step = Exec::Step::Requesting;
        [[fallthrough]];
    }
    case Exec::Step::Requesting: {
        const int rc = ssh_channel_request_exec(e.channel, e.wire.constData());
        if (rc == SSH_AGAIN)
            return false;
        if (rc != SSH_OK) {
            finishExec(
                e, -1,
                QStringLiteral("%1 refused to run `%2`: %3").arg(where(), command, sshError()));
            return true;
        }
        e.step = Exec::Step::Running;
        [[fallthrough]];
    }
    case Exec::Step::Running:
        break;
    }
    if (!e.remoteClosed)
        return false;
    if (e.exitStatus >= 0) {
        finishExec(e, e.exitStatus, {});
    } else if (!e.exitSignal.isEmpty()) {
        finishExec(e, -1,
                   QStringLiteral("`%1` on %2 was killed by signal %3")
                       .arg(command, where(), e.exitSignal));
    } else {
        finishExec(e, -1,
                   QStringLiteral("`%1` on %2 ended without an exit status").arg(command, where()));
    }
    return true;
}

void SshWorker::finishExec(Exec &e, int exitCode, const QString &error)
{
    if (e.channel) {
        // A timed-out or cancelled command should not outlive its channel:
        // TERM works for non-root users; for root, closing the channel
        // triggers the watcher of SshCommand::stoppable.
        if (!e.remoteClosed && e.step == Exec::Step::Running)
            ssh_channel_request_send_signal(e.channel, "TERM");
        freeChannel(e.channel, &e.callbacks,
                    e.step == Exec::Step::Requesting || e.step == Exec::Step::Running);
    }
    Q_EMIT execFinished(e.id, exitCode, error);
}

bool SshWorker::stepForward(Forward &f)
{
    if (f.ready)
        return false;
    if (f.deadline.hasExpired()) {
        freeChannel(f.probe, nullptr, false);
        Q_EMIT forwardFailed(
            f.remotePath,
            QStringLiteral("timed out checking the socket %1 on %2").arg(f.remotePath, where()));
        return true;
    }
    if (!f.probe) {
        f.probe = ssh_channel_new(m_session);
        if (!f.probe) {
            Q_EMIT forwardFailed(
                f.remotePath,
                QStringLiteral("cannot create a channel on %1: %2").arg(where(), sshError()));
            return true;
        }
    }
    // Opening one channel first proves the socket exists and the server
    // allows streamlocal forwarding, so forwardReady() means it works.
    const QByteArray path = f.remotePath.toUtf8();
    const int rc = ssh_channel_open_forward_unix(f.probe, path.constData(), "127.0.0.1", 0);
    if (rc == SSH_AGAIN)
        return false;
    if (rc != SSH_OK) {
        const QString error = sshError();
        freeChannel(f.probe, nullptr, false);
        Q_EMIT forwardFailed(f.remotePath,
                             QStringLiteral("%1 did not open a channel to %2 (the socket is "
                                            "missing, or sshd has AllowStreamLocalForwarding "
                                            "off): %3")
                                 .arg(where(), f.remotePath, error));
        return true;
    }
    freeChannel(f.probe, nullptr, true);

    QString error;
    f.directory = makePrivateDirectory(&error);
    if (f.directory.isEmpty()) {
        Q_EMIT forwardFailed(f.remotePath, error);
        return true;
    }
    f.localPath = f.directory + u'/' + localSocketName(f.remotePath);
    const QString remotePath = f.remotePath;
    f.server = std::make_unique<SshLocalServer>(
        [this, remotePath](int fd) { acceptLocal(remotePath, fd); });
    if (!f.server->listen(f.localPath)) {
        error = QStringLiteral("cannot listen on %1: %2").arg(f.localPath, f.server->errorString());
        closeForward(f);
        Q_EMIT forwardFailed(f.remotePath, error);
        return true;
    }
    f.ready = true;
    Q_EMIT forwardReady(f.remotePath, f.localPath);
    return false;
}

void SshWorker::closeForward(Forward &f)
{
    freeChannel(f.probe, nullptr, false);
    if (f.server) {
        f.server->close(); // removes the socket file
        dropLater(f.server);
    }
    if (!f.localPath.isEmpty())
        QFile::remove(f.localPath);
    if (!f.directory.isEmpty())
        QDir().rmdir(f.directory);
    f.ready = false;
}

void SshWorker::acceptLocal(const QString &remotePath, int fd)
{
    if (m_stage != Stage::Ready) {
        ::close(fd);
        return;
    }
    auto pipe = std::make_unique<Pipe>();
    Pipe *p = pipe.get();
    p->worker = this;
    p->remotePath = remotePath;
    p->fd = fd;
    p->openDeadline.setRemainingTime(m_options.connectTimeoutMs);
    p->readNotifier = std::make_unique<QSocketNotifier>(fd, QSocketNotifier::Read);
    connect(p->readNotifier.get(), &QSocketNotifier::activated, this, [this, p] {
        readLocal(*p);
        pump();
    });
    p->writeNotifier = std::make_unique<QSocketNotifier>(fd, QSocketNotifier::Write);
    p->writeNotifier->setEnabled(false);
    connect(p->writeNotifier.get(), &QSocketNotifier::activated, this, &SshWorker::pump);
    m_pipes.push_back(std::move(pipe));
    pump();
}

void SshWorker::readLocal(Pipe &p)
{
    char buffer[ReadChunk];
    while (!p.localEof && !p.broken && p.toRemote.size() < MaxBuffered) {
        const ssize_t n = ::read(p.fd, buffer, sizeof buffer);
        if (n > 0) {
            p.toRemote.append(buffer, n);
        } else if (n == 0) {
            p.localEof = true;
        } else if (errno == EINTR) {
            continue;
        } else {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                p.broken = true;
            break;
        }
    }
}

bool SshWorker::stepPipe(Pipe &p)
{
    if (p.broken) {
        closePipe(p);
        return true;
    }
    if (!p.channel) {
        p.channel = ssh_channel_new(m_session);
        if (!p.channel) {
            closePipe(p);
            return true;
        }
        ssh_callbacks_init(&p.callbacks);
        p.callbacks.userdata = &p;
        p.callbacks.channel_data_function = &SshWorker::onPipeData;
        p.callbacks.channel_eof_function = &SshWorker::onPipeEof;
        p.callbacks.channel_close_function = &SshWorker::onPipeClose;
        p.callbacks.channel_write_wontblock_function = &SshWorker::onPipeWritable;
        ssh_set_channel_callbacks(p.channel, &p.callbacks);
    }
    if (!p.open) {
        if (p.openDeadline.hasExpired()) {
            closePipe(p);
            return true;
        }
        const QByteArray path = p.remotePath.toUtf8();
        const int rc = ssh_channel_open_forward_unix(p.channel, path.constData(), "127.0.0.1", 0);
        if (rc == SSH_AGAIN)
            return false;
        if (rc != SSH_OK) {
            // The local client sees its connection closed: there is no way
            // to tell it more over a raw socket.
            qWarning("ssh: %s: no channel to %s for a local connection: %s",
                     qUtf8Printable(where()), qUtf8Printable(p.remotePath),
                     qUtf8Printable(sshError()));
            closePipe(p);
            return true;
        }
        p.open = true;
    }

    // local -> remote, within the channel's window
    while (!p.toRemote.isEmpty()) {
        const uint32_t window = ssh_channel_window_size(p.channel);
        if (window == 0)
            break;
        const uint32_t chunk =
            uint32_t(qMin<qsizetype>(p.toRemote.size(), qMin<uint32_t>(window, 32768)));
        const int n = ssh_channel_write(p.channel, p.toRemote.constData(), chunk);
        if (n < 0) {
            closePipe(p);
            return true;
        }
        if (n == 0)
            break;
        p.toRemote.remove(0, n);
    }
    if (p.localEof && p.toRemote.isEmpty() && !p.eofSent && !p.remoteClosed) {
        ssh_channel_send_eof(p.channel);
        p.eofSent = true;
    }
    // Stop reading the client while the remote side cannot keep up.
    p.readNotifier->setEnabled(!p.localEof && p.toRemote.size() < MaxBuffered);

    // remote -> local
    while (!p.toLocal.isEmpty()) {
        const ssize_t n = ::send(p.fd, p.toLocal.constData(), size_t(p.toLocal.size()),
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            p.toLocal.remove(0, n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            closePipe(p); // the client went away
            return true;
        }
    }
    p.writeNotifier->setEnabled(!p.toLocal.isEmpty());
    if ((p.remoteEof || p.remoteClosed) && p.toLocal.isEmpty() && !p.localShut) {
        // Half-close: the client reads EOF and may still send.
        ::shutdown(p.fd, SHUT_WR);
        p.localShut = true;
    }

    const bool done = (p.remoteClosed && p.toLocal.isEmpty()) || (p.eofSent && p.localShut);
    if (done) {
        closePipe(p);
        return true;
    }
    return false;
}

void SshWorker::closePipe(Pipe &p)
{
    freeChannel(p.channel, &p.callbacks, p.open);
    dropNotifier(p.readNotifier);
    dropNotifier(p.writeNotifier);
    if (p.fd >= 0) {
        ::close(p.fd);
        p.fd = -1;
    }
}

bool SshWorker::stepProbe(Probe &probe)
{
    if (probe.deadline.hasExpired()) {
        freeChannel(probe.channel, nullptr, false);
        Q_EMIT latencyFailed(
            QStringLiteral("no answer from %1 within the latency probe's timeout").arg(where()));
        return true;
    }
    if (!probe.channel) {
        probe.channel = ssh_channel_new(m_session);
        if (!probe.channel) {
            Q_EMIT latencyFailed(
                QStringLiteral("cannot create a channel on %1: %2").arg(where(), sshError()));
            return true;
        }
        probe.timer.start();
    }
    // One channel open is exactly one round trip to sshd and back.
    const int rc = ssh_channel_open_session(probe.channel);
    if (rc == SSH_AGAIN)
        return false;
    const double ms = double(probe.timer.nsecsElapsed()) / 1e6;
    const QString error = rc == SSH_OK ? QString() : sshError();
    freeChannel(probe.channel, nullptr, rc == SSH_OK);
    if (rc == SSH_OK)
        Q_EMIT latencyMeasured(ms);
    else
        Q_EMIT latencyFailed(QStringLiteral("%1 refused a channel: %2").arg(where(), error));
    return true;
}

// ---- endings ----------------------------------------------------------------------------------

void SshWorker::abort(const QString &message)
{
    const bool wasReady = m_stage == Stage::Ready;
    for (auto &[id, exec] : m_execs)
        finishExec(*exec, -1, message);
    m_execs.clear();
    for (auto &[path, forward] : m_forwards) {
        if (!forward->ready)
            Q_EMIT forwardFailed(path, message);
    }
    for (const auto &probe : m_probes) {
        freeChannel(probe->channel, nullptr, false);
        Q_EMIT latencyFailed(message);
    }
    m_probes.clear();
    releaseSession();
    m_stage = Stage::Idle;
    m_lastFailure = message;
    if (wasReady)
        Q_EMIT connectionLost(message);
    else
        Q_EMIT failed(message);
}

void SshWorker::releaseSession()
{
    for (auto &pipe : m_pipes)
        closePipe(*pipe);
    m_pipes.clear();
    for (auto &[path, forward] : m_forwards)
        closeForward(*forward);
    m_forwards.clear();
    for (auto &[id, exec] : m_execs)
        freeChannel(exec->channel, &exec->callbacks,
                    exec->step == Exec::Step::Requesting || exec->step == Exec::Step::Running);
    for (auto &probe : m_probes)
        freeChannel(probe->channel, nullptr, false);
    m_probes.clear();
    dropNotifier(m_readNotifier);
    dropNotifier(m_writeNotifier);
    if (m_authKey) {
        ssh_key_free(m_authKey);
        m_authKey = nullptr;
    }
    if (m_event) {
        if (m_session)
            ssh_event_remove_session(m_event, m_session);
        ssh_event_free(m_event);
        m_event = nullptr;
    }
    if (m_session) {
        if (ssh_is_connected(m_session))
            ssh_disconnect(m_session);
        ssh_free(m_session);
        m_session = nullptr;
    }
}

QString SshWorker::sshError() const
{
    if (!m_session)
        return {};
    return QString::fromUtf8(ssh_get_error(m_session)).trimmed();
}

QString SshWorker::knownHostsPath() const
{
    if (!m_options.knownHostsFile.isEmpty())
        return m_options.knownHostsFile;
    char *value = nullptr;
    if (m_session && ssh_options_get(m_session, SSH_OPTIONS_KNOWNHOSTS, &value) == SSH_OK &&
        value) {
        const QString path = QFile::decodeName(value);
        ssh_string_free_char(value);
        return path;
    }
    return QDir::homePath() + QStringLiteral("/.ssh/known_hosts");
}

// ---- libssh callbacks: record, never free ----------------------------------------------------

int SshWorker::onExecData(ssh_session, ssh_channel, void *data, uint32_t len, int isStderr,
                          void *userdata)
{
    auto *e = static_cast<Exec *>(userdata);
    Q_EMIT e->worker->execOutput(e->id, QByteArray(static_cast<const char *>(data), qsizetype(len)),
                                 isStderr != 0);
    return int(len);
}

void SshWorker::onExecClose(ssh_session, ssh_channel, void *userdata)
{
    auto *e = static_cast<Exec *>(userdata);
    e->remoteClosed = true;
    e->worker->m_pumpAgain = true;
}

void SshWorker::onExecExitStatus(ssh_session, ssh_channel, int status, void *userdata)
{
    static_cast<Exec *>(userdata)->exitStatus = status;
}

void SshWorker::onExecExitSignal(ssh_session, ssh_channel, const char *signal, int, const char *,
                                 const char *, void *userdata)
{
    static_cast<Exec *>(userdata)->exitSignal = QString::fromUtf8(signal ? signal : "?");
}

int SshWorker::onPipeData(ssh_session, ssh_channel, void *data, uint32_t len, int isStderr,
                          void *userdata)
{
    auto *p = static_cast<Pipe *>(userdata);
    if (isStderr == 0)
        p->toLocal.append(static_cast<const char *>(data), qsizetype(len));
    p->worker->m_pumpAgain = true;
    return int(len);
}

void SshWorker::onPipeEof(ssh_session, ssh_channel, void *userdata)
{
    auto *p = static_cast<Pipe *>(userdata);
    p->remoteEof = true;
    p->worker->m_pumpAgain = true;
}

void SshWorker::onPipeClose(ssh_session, ssh_channel, void *userdata)
{
    auto *p = static_cast<Pipe *>(userdata);
    p->remoteClosed = true;
    p->worker->m_pumpAgain = true;
}

int SshWorker::onPipeWritable(ssh_session, ssh_channel, uint32_t, void *userdata)
{
    static_cast<Pipe *>(userdata)->worker->m_pumpAgain = true;
    return 0;
}

} // namespace Pilothouse::Internal
