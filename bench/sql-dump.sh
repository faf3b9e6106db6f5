#!/usr/bin/env bash
# A large SQL dump full of password hashes (issue 14: a 99 MB dump took 31 s and reported one
# finding per hash). Generates, in $TMPDIR, a synthetic dump of ROWS user rows in the two shapes
# dumps come in: one `INSERT INTO users VALUES (...);` per row (`--skip-extended-insert`,
# ORM seeders), and mysqldump's default extended INSERTs (PER rows in one statement on one long
# line), each row with a bcrypt, phpass, argon2, sha512crypt, MySQL `*<hex>` or md5/sha1/sha256
# hex digest. Then scans each with BASE and NEW and prints CPU time (user + system, best of RUNS)
# and the number of findings.
#
#   bench/sql-dump.sh BASE_BINARY [NEW_BINARY]   (NEW defaults to this tree's release build)
#
# Env: ROWS (default 100000), PER (rows per extended INSERT, default 2000), RUNS (default 3).
# Nothing is kept: the dumps are generated under a temporary directory and removed.
set -euo pipefail
cd "$(dirname "$0")/.."
base=$(realpath "${1:?usage: bench/sql-dump.sh BASE_BINARY [NEW_BINARY]}")
if [ -n "${2:-}" ]; then
  new=$(realpath "$2")
else
  cargo build --release --quiet
  new=${CARGO_TARGET_DIR:-$PWD/target}/release/credsweep
fi
rows=${ROWS:-100000}
per=${PER:-2000}
runs=${RUNS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rows" "$work/extended"
python3 - "$work" "$rows" "$per" <<'PY'
import hashlib, random, sys
work, rows, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(14)
crypt = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
def pick(alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))
def digest(i):
    kind = i % 8
    if kind == 0:
        return "$2y$10$" + pick(crypt, 53)
    if kind == 1:
        return "$P$B" + pick(crypt, 30)
    if kind == 2:
        return "$argon2id$v=19$m=65536,t=3,p=4$" + pick(b64, 22) + "$" + pick(b64, 43)
    if kind == 3:
        return "$6$" + pick(crypt, 16) + "$" + pick(crypt, 86)
    if kind == 4:
        return "*" + hashlib.sha1(str(i).encode()).hexdigest().upper()
    if kind == 5:
        return hashlib.md5(str(i).encode()).hexdigest()
    if kind == 6:
        return hashlib.sha1(str(i).encode()).hexdigest()
    return hashlib.sha256(str(i).encode()).hexdigest()
def row(i):
    return f"({i},'user{i}','user{i}@mail.invalid','{digest(i)}','2024-03-01 10:00:00',{i % 3})"
head = "-- synthetic dump for bench/sql-dump.sh\nDROP TABLE IF EXISTS `users`;\n" \
    "CREATE TABLE `users` (`id` int, `login` varchar(64), `email` varchar(128), " \
    "`password` varchar(255), `created` datetime, `role` int);\n"
with open(f"{work}/rows/dump.sql", "w") as f:
    f.write(head)
    for i in range(rows):
        f.write(f"INSERT INTO `users` VALUES {row(i)};\n")
with open(f"{work}/extended/dump.sql", "w") as f:
    f.write(head)
    for start in range(0, rows, per):
        f.write("INSERT INTO `users` VALUES " + ",".join(row(i) for i in range(start, min(rows, start + per))) + ";\n")
PY
echo "$rows rows; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
# cpu BINARY DIR: best user+sys seconds of RUNS scans, and the findings of the last.
cpu() {
  local bin=$1 dir=$2 best= n
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%U %S' -o "$work/time" "$bin" dir --no-config -q --format json "$dir" \
      >"$work/out.json" || [ $? -eq 1 ]
    t=$(tail -n 1 "$work/time" | awk '{print $1 + $2}')
    best=$(python3 -c "print(min(float('$t'), float('${best:-inf}')))")
  done
  n=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(len(d['findings'] if isinstance(d, dict) else d))" "$work/out.json")
  echo "$best $n"
}
for shape in rows extended; do
  size=$(du -m "$work/$shape/dump.sql" | cut -f1)
  read -r tb nb < <(cpu "$base" "$work/$shape")
  read -r tn nn < <(cpu "$new" "$work/$shape")
  python3 -c "
tb, tn = float('$tb'), float('$tn')
print(f'{\"$shape\":<9} {$size:>4} MB  base {tb:7.2f} s CPU, $nb findings   new {tn:7.2f} s CPU, $nn findings   new/base {tn / tb if tb else 0:5.2f}')"
done
