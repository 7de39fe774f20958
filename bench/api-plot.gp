# The API part's figure, drawn by bench/run from the data files it writes:
#   gnuplot -e "datadir='DIR'; out='FILE.svg'" bench/api-plot.gp
# DIR holds e2e-{polling,volume,api}.dat (patch -> exit, seconds, and the
# cumulative fraction) and api-{approve-step,floor}.dat (event on the watch
# stream -> exit, ms, and the cumulative fraction).

if (out[strlen(out)-2:] eq 'png') {
    set terminal pngcairo size 1100,440 enhanced font 'sans,10' background rgb 'white'
} else {
    set terminal svg size 1100,440 dynamic enhanced font 'sans,11' background rgb 'white'
}
set output out
set key box opaque bottom right
set grid xtics ytics mxtics
set logscale x
set format x '%g'
set yrange [0:1]
set ylabel 'fraction of approvals'
set style line 1 lc rgb '#c0392b' lw 2     # polling
set style line 2 lc rgb '#1f6fb2' lw 2     # approve-step, volume
set style line 4 lc rgb '#27ae60' lw 2     # approve-step, API
set style line 3 lc rgb '#555555' lw 2 dt 2  # floor

have(f) = system('test -s '.datadir.'/'.f.' && echo 1 || echo 0') + 0

set multiplot layout 1,2 title "kubectl patch -> the step exits"

set title 'End to end (kubelet sync every 60-90 s, modelled)'
set xlabel 'seconds (log scale)'
plot (have('e2e-polling.dat') ? datadir.'/e2e-polling.dat' : 1/0) using 1:2 with steps ls 1 title 'polling step, volume', \
     (have('e2e-volume.dat') ? datadir.'/e2e-volume.dat' : 1/0) using 1:2 with steps ls 2 title 'approve-step, volume', \
     (have('e2e-api.dat') ? datadir.'/e2e-api.dat' : 1/0) using 1:2 with steps ls 4 title 'approve-step --api'

set title 'Through the API: event on the watch stream -> exit'
set xlabel 'milliseconds (log scale)'
plot datadir.'/api-approve-step.dat' using 1:2 with steps ls 4 title 'approve-step --api', \
     datadir.'/api-floor.dat' using 1:2 with steps ls 3 title 'TLS floor (BearSSL)'

unset multiplot
