// The peer for bench/informer: a client-go pod informer, measured the same
// way as bench-informer (time to sync, resident memory per cached pod).
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func rss() int64 {
	var pages, resident int64
	f, err := os.Open("/proc/self/statm")
	if err != nil {
		return 0
	}
	defer f.Close()
	fmt.Fscan(f, &pages, &resident)
	return resident * int64(os.Getpagesize())
}

func settle() int64 {
	runtime.GC()
	debug.FreeOSMemory()
	return rss()
}

func heapInUse() int64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

func main() {
	ns := flag.String("namespace", "", "namespace (empty: all)")
	strip := flag.Bool("strip", false, "drop managedFields with a transform (the usual client-go trim)")
	flag.Parse()
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
	if err != nil {
		panic(err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	cs := kubernetes.NewForConfigOrDie(cfg)
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(*ns))
	inf := factory.Core().V1().Pods().Informer()
	if *strip {
		inf.SetTransform(func(o interface{}) (interface{}, error) {
			if acc, ok := o.(metav1.Object); ok {
				acc.SetManagedFields(nil)
			}
			return o, nil
		})
	}
	rss0, heap0 := settle(), heapInUse()
	stop := make(chan struct{})
	t0 := time.Now()
	factory.Start(stop)
	// HasSynced is asked every millisecond: cache.WaitForCacheSync asks
	// every 100 ms, which would round the figure up to the next tick.
	for !inf.HasSynced() {
		if time.Since(t0) > 5*time.Minute {
			panic("no sync within 5 minutes")
		}
		time.Sleep(time.Millisecond)
	}
	syncMs := time.Since(t0).Milliseconds()
	rss1, heap1 := settle(), heapInUse()
	n := int64(len(inf.GetStore().List()))
	name := "client-go"
	if *strip {
		name = "client-go (managedFields dropped)"
	}
	per := func(d int64) int64 {
		if n == 0 {
			return 0
		}
		return d / n
	}
	fmt.Printf("{\"client\":%q,\"pods\":%d,\"sync_ms\":%d,\"rss_delta_bytes\":%d,\"rss_per_pod\":%d,\"heap_per_pod\":%d}\n",
		name, n, syncMs, rss1-rss0, per(rss1-rss0), per(heap1-heap0))
	close(stop)
	_ = corev1.Pod{}
}
