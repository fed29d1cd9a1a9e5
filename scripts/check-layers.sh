#!/bin/bash
# make check-layers: every file of a layer (its folder and include/LAYER/) includes only headers
# of the layers it may use, as the Makefile's LAYER_DEPS say; Botan stays behind pki/ and
# cpp-httplib behind server/. Prints each violation as FILE:LINE and exits 1 if there is one.
# usage: scripts/check-layers.sh LAYER="ALLOWED LAYERS" ...
set -euo pipefail
cd "$(dirname "$0")/.."
# usage also: FILE="ALLOWED LAYERS" for a program's main that links more than its folder's layer.
declare -A allowed program_allowed
layers=()
for pair in "$@"; do
  name=${pair%%=*}
  if [[ $name == */* ]]; then
    program_allowed[$name]=" ${pair#*=} "
    continue
  fi
  allowed[$name]=" ${pair#*=} "
  layers+=("$name")
done
# Third-party headers owned by one layer: name -> layer.
declare -A owner=([botan/]=pki [httplib.h]=server)
violations=0
for layer in "${layers[@]}"; do
  while IFS= read -r file; do
    if [[ -n ${program_allowed[$file]+x} ]]; then
      allowed[$file]=${program_allowed[$file]}
      layer_of_file=$file
    else
      layer_of_file=$layer
    fi
    while IFS=: read -r line text; do
      if [[ $text =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\"([a-z_]+)/ ]]; then
        target=${BASH_REMATCH[1]}
        # Only folders that are layers count ("test/...", "fuzz/..." are not included by layers).
        [[ -n ${allowed[$target]+x} || $target == test || $target == fuzz ]] || continue
        if [[ ${allowed[$layer_of_file]} != *" $target "* ]]; then
          echo "$file:$line: layer '$layer_of_file' includes a header of '$target': ${text#*#}"
          violations=$((violations + 1))
        fi
      elif [[ $text =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\<(botan/|httplib\.h) ]]; then
        lib=${BASH_REMATCH[1]}
        if [[ ${owner[$lib]} != "$layer" ]]; then
          echo "$file:$line: <${lib}...> belongs to layer '${owner[$lib]}', not '$layer'"
          violations=$((violations + 1))
        fi
      fi
    done < <(grep -n '#[[:space:]]*include' "$file" || true)
  done < <(find "$layer" "include/$layer" -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) 2>/dev/null | sort)
done
# Inside pki/: the shared X.509 objects (files directly in pki/) use neither part; the verifier
# (pki/verify/) never uses the CA (pki/ca/); only the command line (pki/cli/) uses both.
declare -A pki_part_may_not=([base]="ca verify cli" [verify]="ca cli" [ca]="cli" [cli]="")
while IFS= read -r file; do
  part=base
  [[ $file =~ ^pki/(ca|verify|cli)/ ]] && part=${BASH_REMATCH[1]}
  [[ $file == pki/main.cpp ]] && continue  # the program, not a part
  while IFS=: read -r line text; do
    if [[ $text =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\"pki/(ca|verify|cli)/ ]]; then
      target=${BASH_REMATCH[1]}
      if [[ " ${pki_part_may_not[$part]} " == *" $target "* ]]; then
        echo "$file:$line: pki/$part may not include pki/$target: ${text#*#}"
        violations=$((violations + 1))
      fi
    fi
  done < <(grep -n '#[[:space:]]*include' "$file" || true)
done < <(find pki -type f \( -name '*.cpp' -o -name '*.hpp' \) | sort)
if ((violations)); then
  echo "check-layers: $violations include(s) cross a layer boundary (see LAYER_DEPS in the Makefile)"
  exit 1
fi
echo "check-layers: ok (${layers[*]})"
