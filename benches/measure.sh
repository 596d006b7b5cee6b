# Sourced by benches/compare.sh and benches/live.sh.
# measure NAME COMMAND...: runs COMMAND $RUNS times under /usr/bin/time and
# prints "NAME MEDIAN_WALL_SECONDS PEAK_RSS_KB". A failing run stops the
# benchmark with its stderr: a figure of a failed run would measure nothing.
measure() {
  local name=$1; shift
  local times=() rss=0
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$OUT/time" "$@" >/dev/null 2>"$OUT/err" || {
      echo "$name failed:" >&2; cat "$OUT/err" >&2; exit 2; }
    read -r t m < "$OUT/time"
    times+=("$t"); [ "$m" -gt "$rss" ] && rss=$m
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "$name $median $rss"
}
