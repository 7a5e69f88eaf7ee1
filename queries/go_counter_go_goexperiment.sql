-- go/goexperiment:{fieldtrack,nofieldtrack,preemptibleloops,nopreemptibleloops,staticlockranking,nostaticlockranking,boringcrypto,noboringcrypto,regabiwrappers,noregabiwrappers,regabiargs,noregabiargs,heapminimum512kib,noheapminimum512kib,arenas,noarenas,cgocheck2,nocgocheck2,loopvar,noloopvar,newinliner,nonewinliner,dwarf5,nodwarf5,jsonv2,nojsonv2,jsonformat,nojsonformat,greenteagc,nogreenteagc,randomizedheapbase64,norandomizedheapbase64,runtimefreegc,noruntimefreegc,sizespecializedmalloc,nosizespecializedmalloc,simd,nosimd,runtimesecret,noruntimesecret,mapsplitgroup,nomapsplitgroup,genericmethods,nogenericmethods} (cmd/go): distinct reports per bucket.
SELECT bucket, reports, installations
FROM go_partitions
WHERE program = 'cmd/go' AND chart = 'go/goexperiment'
ORDER BY position
