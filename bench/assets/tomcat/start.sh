#!/bin/sh
# HelloBench waitline job: a private CATALINA_BASE under /tmp, then tomcat in the foreground.
set -e
base=/tmp/tomcat
mkdir -p "$base/logs" "$base/temp" "$base/work" "$base/webapps/ROOT"
cp -r /etc/tomcat10 "$base/conf"
cp /hello/server.xml "$base/conf/server.xml"
echo hello > "$base/webapps/ROOT/index.html"
export CATALINA_HOME=/usr/share/tomcat10 CATALINA_BASE="$base" CATALINA_TMPDIR="$base/temp"
exec /usr/share/tomcat10/bin/catalina.sh run
