# The benchmark's figure, drawn by bench/run from the data files it writes:
#   gnuplot -e "datadir='DIR'; out='FILE.svg'; machine='TEXT'; \
#              has_scale=1; has_cost=1" bench/plot.gp
# (FILE.png gives a PNG instead). has_scale=0: no scale run was made;
# has_cost=0: no approval with other waiters was measured.
# DIR holds latency-KIND.dat (sorted swap->exit ms, cumulative fraction) and
# scale-KIND.dat (n, rss MiB, idle CPU ms/min, idle wakeups/min, CPU ms and
# wakeups the other waiters spend on one approval, pss MiB).

if (!exists('has_scale')) { has_scale = 1 }
if (!exists('has_cost')) { has_cost = has_scale }

# An empty panel, for figures this run did not measure.
no_data(what) = sprintf('not measured in this run (%s)', what)

if (out[strlen(out)-2:] eq 'png') {
    set terminal pngcairo size 1100,820 enhanced font 'sans,10' background rgb 'white'
} else {
    set terminal svg size 1100,820 dynamic enhanced font 'sans,11' background rgb 'white'
}
set output out
set datafile missing 'NaN'
set key box opaque
set grid xtics ytics mxtics
set style line 1 lc rgb '#c0392b' lw 2 pt 7 ps 1.3   # polling
set style line 2 lc rgb '#1f6fb2' lw 2 pt 5 ps 1.3   # approve-step
set style line 3 lc rgb '#555555' lw 2 pt 9 ps 1.3 dt 2  # floor

set multiplot layout 2,2 title "approve-step vs a polling step vs the least inotify waiter\n{/*0.8 ".machine."}"

# 1. reaction latency distribution
set title 'Reaction: ..data swap -> waiter exit (distribution)'
set key bottom right
set xlabel 'milliseconds (log scale)'
set ylabel 'fraction of samples'
set logscale x
set format x '%g'
set yrange [0:1]
set xrange [*:*]
plot datadir.'/latency-polling.dat' using 1:2 with steps ls 1 title 'polling (bash, sleep 2)', \
     datadir.'/latency-approve-step.dat' using 1:2 with steps ls 2 title 'approve-step', \
     datadir.'/latency-floor.dat' using 1:2 with steps ls 3 title 'floor (least inotify waiter)'

# 2. idle CPU vs number of waiters
set title 'Idle cost: CPU time per minute of waiting, all waiters'
set xlabel 'waiters on one node (log scale)'
set ylabel 'CPU ms per minute'
set logscale x
unset logscale y
set yrange [0:*]
set offsets 0, 0, graph 0.1, 0
set xrange [0.7:1500]
set key top left
if (has_scale) {
    set label 1 'approve-step and floor: 0 at every N' at graph 0.97, graph 0.06 right
    plot datadir.'/scale-polling.dat' using 1:3 with linespoints ls 1 title 'polling', \
         datadir.'/scale-approve-step.dat' using 1:3 with linespoints ls 2 title 'approve-step', \
         datadir.'/scale-floor.dat' using 1:3 with linespoints ls 3 title 'floor'
} else {
    set label 1 no_data('--scale') at graph 0.5, graph 0.5 center
    set yrange [0:1]
    unset key
    plot -1 notitle
}

# 3. memory vs number of waiters
set title 'Memory, all waiters: RSS sum (solid), PSS sum (thin: shared pages counted once)'
unset label 1
set offsets 0, 0, 0, 0
set key bottom right
set ylabel 'MiB (log scale)'
set logscale xy
set yrange [*:*]
if (has_scale) {
    plot datadir.'/scale-polling.dat' using 1:2 with linespoints ls 1 title 'polling (bash + child)', \
         datadir.'/scale-approve-step.dat' using 1:2 with linespoints ls 2 title 'approve-step', \
         datadir.'/scale-floor.dat' using 1:2 with linespoints ls 3 title 'floor', \
         datadir.'/scale-polling.dat' using 1:7 with lines lc rgb '#c0392b' lw 1 notitle, \
         datadir.'/scale-approve-step.dat' using 1:7 with lines lc rgb '#1f6fb2' lw 1 notitle, \
         datadir.'/scale-floor.dat' using 1:7 with lines lc rgb '#555555' lw 1 dt 2 notitle
} else {
    set label 1 no_data('--scale') at graph 0.5, graph 0.5 center
    set yrange [1:10]
    unset key
    plot -1 notitle
    unset label 1
}

# 4. what one approval costs the waiters it is not for
set title 'One approval: CPU time the other waiters spend on it'
set ylabel 'CPU ms, all other waiters (log scale)'
set logscale xy
set xrange [5:1500]
set key top left
if (has_cost) {
    plot datadir.'/scale-approve-step.dat' using 1:5 with linespoints ls 2 title 'approve-step', \
         datadir.'/scale-floor.dat' using 1:5 with linespoints ls 3 title 'floor'
} else {
    set label 1 no_data('--scale with 2 or more waiters') at graph 0.5, graph 0.5 center
    set yrange [1:10]
    unset key
    plot -1 notitle
}

unset multiplot
