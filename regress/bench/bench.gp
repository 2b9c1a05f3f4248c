# The figure of `make bench` (etc/bench.sh): signatures per second
# against concurrency and batch size, a panel per algorithm, signerd's
# rate as points joined by lines and the raw backend's (OpenSSL in one
# thread beside the software signer, C_Sign with as many threads as
# sessions beside the pkcs11 signer) as dashed lines.
#
#   gnuplot -e "csv='bench.csv'; png='bench.png'; algs='p256 rsa2048'; \
#	title='...'" bench.gp
#
# algs: the algorithms to draw, those that have sign rows.
# csv: op,algorithm,signer,concurrency,batch,ops_per_s,raw_ops_per_s,
# p50_ms,p99_ms, a header line first.

if (!exists("title")) title = "signerd"
if (!exists("csv") || !exists("png")) exit error "csv and png, please"
set datafile separator ","
set key top left font ",9" samplen 2
set offsets 0, 0, graph 0.15, 0
set format y "%.0f"
set logscale y
set logscale x 2
set xrange [0.8:5]
set xtics (1, 2, 4)
set grid ytics mytics xtics
set xlabel "concurrency (connections; pkcs11: = sessions)"
set ylabel "signatures/s"

# The rows of one signer, algorithm and batch size (0: any), ordered
# by concurrency, so that the lines join them in order.
rows(sg, al, b) = sprintf("< awk -F, '$1 == \"sign\" && " . \
    "$3 == \"%s\" && $2 == \"%s\" && (%d == 0 || $5 == %d)' '%s' | " . \
    "sort -t, -k4,4n", sg, al, b, b, csv)

if (!exists("algs")) algs = "p256 ed25519 rsa2048"
name(a) = a eq "p256" ? "ECDSA P-256" : a eq "p384" ? "ECDSA P-384" : \
    a eq "ed25519" ? "Ed25519" : a eq "rsa2048" ? "RSA-2048" : a

set terminal pngcairo size 500 * words(algs), 520 font ",10"
set output png
set multiplot layout 1, words(algs) title title noenhanced
do for [i = 1:words(algs)] {
	a = word(algs, i)
	set title name(a)
	plot rows("soft", a, 1) using 4:6 with linespoints lw 2 pt 7 \
	    lc rgb "#1f77b4" title "openssl signer, batch 1" noenhanced, \
	  rows("soft", a, 16) using 4:6 with linespoints lw 2 pt 5 \
	    lc rgb "#17becf" title "openssl signer, batch 16" noenhanced, \
	  rows("soft", a, 1) using 4:7 with lines dt 2 lw 2 \
	    lc rgb "#1f77b4" title "raw OpenSSL, 1 thread" noenhanced, \
	  rows("hsm", a, 1) using 4:6 with linespoints lw 2 pt 7 \
	    lc rgb "#d62728" title "pkcs11 signer (SoftHSM2), batch 1" \
	    noenhanced, \
	  rows("hsm", a, 16) using 4:6 with linespoints lw 2 pt 5 \
	    lc rgb "#ff7f0e" title "pkcs11 signer (SoftHSM2), batch 16" \
	    noenhanced, \
	  rows("hsm", a, 1) using 4:7 with lines dt 2 lw 2 \
	    lc rgb "#d62728" title "raw C_Sign, as many threads" noenhanced
}
unset multiplot
