#!/usr/bin/env bash
# Builds zookeeper:3.8, the ZooKeeper image docker-compose.yml runs, when it
# is missing. No registry is reachable here, so it is assembled from this
# machine's own files and imported with `docker import` (no base image):
#   - a Java runtime: the JDK `java` resolves to, trimmed with jlink to the
#     modules jdeps finds in the jars (or copied whole when there is no
#     jlink), plus the shared libraries ldd reports for it;
#   - Debian's ZooKeeper jars and their dependencies, followed through the
#     jars' Class-Path manifests from /usr/share/java/zookeeper.jar (the
#     classpath Debian runs it with), and slf4j-simple to log to stdout;
#   - Debian's static busybox for /bin/sh and nc (the healthcheck);
#   - /docker-entrypoint.sh, which writes zoo.cfg from the same ZOO_*
#     variables as the official image, and `zkServer.sh start-foreground`,
#     which runs QuorumPeerMain in the foreground (as root: the official
#     image drops to a `zookeeper` user with gosu, which busybox lacks).
# Where the public image exists, it is used as is and never rebuilt. An
# image this script built is rebuilt when the script has changed since.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
image=${MESOS_TS_ZK_IMAGE:-zookeeper:3.8}
recipe=$(sha256sum "$0" | cut -c1-16)
old=

if docker image inspect "$image" >/dev/null 2>&1; then
  built=$(docker image inspect -f '{{with .Config.Labels}}{{index . "mesos-ts.recipe"}}{{end}}' "$image")
  if [ -z "$built" ] || [ "$built" = "$recipe" ]; then exit 0; fi
  say "$image was built by an older version of this script: rebuilding it"
  old=$(docker image inspect -f '{{.Id}}' "$image")
fi

zk_jar=/usr/share/java/zookeeper.jar
[ -f "$zk_jar" ] || { echo "[setup] $zk_jar is missing: install Debian's zookeeper package (bash scripts/setup.sh does)" >&2; exit 1; }
command -v java >/dev/null || { echo "[setup] no java on the PATH (Debian's zookeeper package brings one)" >&2; exit 1; }
command -v unzip >/dev/null || { echo "[setup] unzip is needed to read the jars' manifests (apt-get install unzip)" >&2; exit 1; }
java_home=$(readlink -f "$(command -v java)")
java_home=${java_home%/bin/java}
zk_version=$(dpkg-query -W -f '${Version}' libzookeeper-java 2>/dev/null || true)
say "building $image locally from this machine's ZooKeeper ${zk_version:-jars} and the Java runtime in $java_home (docker import, no registry)"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
jre=$root/opt/java/openjdk
mkdir -p "$root"/{bin,etc,tmp,conf,data,datalog,logs,zookeeper/bin,zookeeper/lib,opt/java,root}
chmod 1777 "$root/tmp"

# The jars: zookeeper.jar and, transitively, every jar its manifest's
# Class-Path names (absolute, as Debian writes them), resolved to files.
class_path() {
  unzip -p "$1" META-INF/MANIFEST.MF 2>/dev/null | tr -d '\r' | sed -e ':a' -e 'N' -e '$!ba' -e 's/\n //g' | sed -n 's/^Class-Path: *//p'
}
declare -A seen=()
add_jar() {
  local jar dep
  jar=$(readlink -f "$1") || return 0
  [ -f "$jar" ] || return 0                     # named but not installed (jline: only the CLI uses it)
  [ -z "${seen[$jar]:-}" ] || return 0
  seen[$jar]=1
  cp "$jar" "$root/zookeeper/lib/"
  for dep in $(class_path "$jar"); do
    case $dep in /*) add_jar "$dep" ;; *) add_jar "$(dirname "$jar")/$dep" ;; esac
  done
}
add_jar "$zk_jar"
# The admin server (ZOO_ADMINSERVER_ENABLED=true) runs on Jetty, which needs the servlet API.
for extra in servlet-api.jar slf4j-simple.jar; do [ -f "/usr/share/java/$extra" ] && add_jar "/usr/share/java/$extra"; done
jars=("$root"/zookeeper/lib/*.jar)
say "  ${#jars[@]} jars ($(du -sh "$root/zookeeper/lib" | cut -f1)) from /usr/share/java"

# The Java runtime: only the modules the jars use when the JDK can link one.
if [ -x "$java_home/bin/jlink" ] && [ -x "$java_home/bin/jdeps" ] && [ -d "$java_home/jmods" ]; then
  modules=$("$java_home/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release base \
    --class-path "$(IFS=:; echo "${jars[*]}")" "${jars[@]}")
  # Used by reflection or by configuration, so jdeps cannot see them: OS metrics, TLS, DNS.
  modules="$modules,jdk.management,jdk.crypto.ec,jdk.naming.dns,jdk.zipfs"
  "$java_home/bin/jlink" --module-path "$java_home/jmods" --add-modules "$modules" \
    --strip-debug --no-header-files --no-man-pages --compress=2 --output "$jre"
  say "  Java runtime linked with jlink: $modules"
else
  mkdir -p "$jre/bin"
  cp -L "$java_home/bin/java" "$jre/bin/"
  cp -rL "$java_home/lib" "$java_home/conf" "$jre/"
  [ -f "$java_home/release" ] && cp -L "$java_home/release" "$jre/"
  rm -f "$jre/lib/src.zip" "$jre/lib/ct.sym"
  say "  Java runtime copied from $java_home (no jlink there)"
fi
# A headless server never loads the GUI and sound libraries; dropping them
# keeps X11, ALSA and font libraries out of the image.
for lib in libawt_xawt libsplashscreen libjsound libjawt libfontmanager liblcms libjavajpeg libmlib_image libatk-wrapper; do
  rm -f "$jre/lib/$lib.so"
done
for bin in $(find "$jre" -type f \( -name '*.so' -o -path "$jre/bin/*" \)); do
  ldd "$bin" 2>/dev/null | grep -o '/[^ ]*' | grep -v "^$root" || true
done | sort -u | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  [ -e "$root$lib" ] || cp -L "$lib" "$root$lib"
done
say "  Java runtime $(du -sh "$jre" | cut -f1), shared libraries $(du -shc "$root"/lib* "$root"/usr 2>/dev/null | tail -1 | cut -f1)"

# A shell and the applets the entrypoint and the healthcheck use.
bb=$(command -v busybox)
cp "$bb" "$root/bin/busybox"
for applet in $("$bb" --list); do [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\nzookeeper:x:1000:1000::/data:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\nzookeeper:x:1000:\n' > "$root/etc/group"

# The official image's docker-entrypoint.sh, in POSIX sh: zoo.cfg from ZOO_*
# (only when none is mounted), then myid, then the command.
cat > "$root/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
if [ ! -f "$ZOO_CONF_DIR/zoo.cfg" ]; then
    CONFIG="$ZOO_CONF_DIR/zoo.cfg"
    {
        echo "dataDir=$ZOO_DATA_DIR"
        echo "dataLogDir=$ZOO_DATA_LOG_DIR"
        echo "tickTime=$ZOO_TICK_TIME"
        echo "initLimit=$ZOO_INIT_LIMIT"
        echo "syncLimit=$ZOO_SYNC_LIMIT"
        echo "autopurge.snapRetainCount=$ZOO_AUTOPURGE_SNAPRETAINCOUNT"
        echo "autopurge.purgeInterval=$ZOO_AUTOPURGE_PURGEINTERVAL"
        echo "maxClientCnxns=$ZOO_MAX_CLIENT_CNXNS"
        echo "standaloneEnabled=$ZOO_STANDALONE_ENABLED"
        echo "admin.enableServer=$ZOO_ADMINSERVER_ENABLED"
    } >> "$CONFIG"
    [ -n "$ZOO_SERVERS" ] || ZOO_SERVERS="server.1=localhost:2888:3888;2181"
    for server in $ZOO_SERVERS; do echo "$server" >> "$CONFIG"; done
    if [ -n "$ZOO_4LW_COMMANDS_WHITELIST" ]; then echo "4lw.commands.whitelist=$ZOO_4LW_COMMANDS_WHITELIST" >> "$CONFIG"; fi
    for cfg_extra_entry in $ZOO_CFG_EXTRA; do echo "$cfg_extra_entry" >> "$CONFIG"; done
fi
if [ ! -f "$ZOO_DATA_DIR/myid" ]; then echo "${ZOO_MY_ID:-1}" > "$ZOO_DATA_DIR/myid"; fi
exec "$@"
EOF
cat > "$root/zookeeper/bin/zkServer.sh" <<'EOF'
#!/bin/sh
# Only `start-foreground` (what the official image's CMD runs): the server in the foreground, logging to stdout.
if [ "$1" != start-foreground ]; then echo "usage: zkServer.sh start-foreground" >&2; exit 2; fi
exec java -Xmx"${ZK_SERVER_HEAP:-1000}"m -Dzookeeper.log.dir="$ZOO_LOG_DIR" \
    -Dorg.slf4j.simpleLogger.logFile=System.out -Dorg.slf4j.simpleLogger.showDateTime=true \
    "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd HH:mm:ss,SSS" \
    $SERVER_JVMFLAGS $JVMFLAGS -cp '/zookeeper/lib/*' org.apache.zookeeper.server.quorum.QuorumPeerMain "$ZOOCFGDIR/zoo.cfg"
EOF
chmod +x "$root/docker-entrypoint.sh" "$root/zookeeper/bin/zkServer.sh"

tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/opt/java/openjdk/bin:/zookeeper/bin:/bin' \
  --change 'ENV JAVA_HOME=/opt/java/openjdk' \
  --change 'ENV ZOO_CONF_DIR=/conf ZOOCFGDIR=/conf ZOO_DATA_DIR=/data ZOO_DATA_LOG_DIR=/datalog ZOO_LOG_DIR=/logs' \
  --change 'ENV ZOO_TICK_TIME=2000 ZOO_INIT_LIMIT=5 ZOO_SYNC_LIMIT=2 ZOO_AUTOPURGE_PURGEINTERVAL=0 ZOO_AUTOPURGE_SNAPRETAINCOUNT=3' \
  --change 'ENV ZOO_MAX_CLIENT_CNXNS=60 ZOO_STANDALONE_ENABLED=true ZOO_ADMINSERVER_ENABLED=true' \
  --change 'EXPOSE 2181 2888 3888 8080' \
  --change 'WORKDIR /zookeeper' \
  --change "LABEL mesos-ts.recipe=$recipe" \
  --change 'ENTRYPOINT ["/docker-entrypoint.sh"]' \
  --change 'CMD ["zkServer.sh", "start-foreground"]' \
  --message "ZooKeeper ${zk_version:-(Debian)} assembled by mesos-ts scripts/build-zookeeper-image.sh" - "$image" >/dev/null
[ -z "$old" ] || docker rmi "$old" >/dev/null 2>&1 || true   # the replaced image, unless a container still uses it
say "built $image ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
