#include "app/connectors/ssh/sshoptions.h"

#include "models/inventory.h"

namespace Pilothouse {

QString SshOptions::describe() const
{
    QString where = host;
    if (!user.isEmpty())
        where = user + u'@' + where;
    where += u':' + QString::number(port > 0 ? port : 22);
    if (name.isEmpty() || name == host)
        return where;
    return name + QStringLiteral(" (") + where + u')';
}

SshOptions SshOptions::fromInventory(const InventoryHost &host, const QString &knownHostsFile)
{
    SshOptions o;
    o.name = host.name;
    o.host = host.address.isEmpty() ? host.name : host.address;
    o.port = host.sshPort;
    o.user = host.user;
    if (!host.keyFile.isEmpty())
        o.identityFiles.append(host.keyFile);
    o.knownHostsFile = knownHostsFile;
    return o;
}

} // namespace Pilothouse
